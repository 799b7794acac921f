import { useMemo, useRef, useState } from 'react';
import { Box, Text, useInput, useWindowSize } from 'ink';
import { changeAction, changeLabel, reasonText, type Change, type DryRunResult } from '../src/engine/change.js';
import type { DiffLine } from '../src/engine/diff.js';
import { clampOffset, DiffView } from './components/DiffView.js';
import { KeyHelp, keyHelpLayout, QUIT_HINT, type KeyHint } from './components/KeyHelp.js';
import { plural, riskColor, wrappedRows } from './format.js';

export interface PreviewItem {
  change: Change;
  dry?: DryRunResult;
}

export interface PreviewNote {
  title: string;
  lines: string[];
  warn?: boolean;
}

export interface PreviewScreenProps {
  title?: string;
  items: PreviewItem[];
  /** The typed diff lines of a change; the caller memoises it per change. */
  diffFor: (change: Change, dry?: DryRunResult) => DiffLine[];
  /** Impact tables, guards, findings left: one line each here, whole on the notes view (n). */
  notes?: PreviewNote[];
  /** Rows of the diff viewport; by default what the terminal has room for. */
  viewportHeight?: number;
  onContinue: () => void;
  onBack?: () => void;
  onQuit: () => void;
}

function DryStatus({ dry }: { dry?: DryRunResult }) {
  if (!dry) return <Text dimColor>· not dry-run</Text>;
  if (!dry.ok) return <Text color="red">✗ dry-run error</Text>;
  if (dry.deferred) return <Text dimColor>… dry-run when applied</Text>;
  if (dry.warnings.length) return <Text color="yellow">{`⚠ ${plural(dry.warnings.length, 'warning')}`}</Text>;
  return <Text color="green">✓ dry-run ok</Text>;
}

/** The window of the change list around the selection. */
function listWindow(total: number, selected: number, max: number): [number, number] {
  if (total <= max) return [0, total];
  const start = Math.max(0, Math.min(selected - Math.floor(max / 2), total - max));
  return [start, start + max];
}

/**
 * The plan, one change at a time: the list of changes, the selected change's reason, risk and dry-run
 * verdict (wrapped, never cut: they are what a user must read before confirming), and its diff. The
 * rows are budgeted so the screen always fits the terminal: the diff keeps at least half of them, the
 * list shrinks first. Notes (impact tables, what is left alone) get a view of their own (n).
 */
export function PreviewScreen({ title, items, diffFor, notes = [], viewportHeight, onContinue, onBack, onQuit }: PreviewScreenProps) {
  const { rows, columns } = useWindowSize();
  const termRows = rows || 24;
  const width = Math.max(20, (columns || 80) - 1);
  // One state object updated functionally: keys that arrive in one burst (key repeat, a paste) all count.
  const [view, setView] = useState({ selected: 0, offset: 0, notes: false, notesOffset: 0 });
  const { selected, offset } = view;
  const item = items[selected];
  const lines = useMemo(() => (item ? diffFor(item.change, item.dry) : []), [item, diffFor]);
  const failed = items.filter((i) => i.dry && !i.dry.ok).length;
  const warned = items.filter((i) => i.dry?.ok && i.dry.warnings.length).length;
  const why = item ? reasonText(item.change) : '';
  const risk = item?.change.riskNotes.join('; ') ?? '';
  // The notes view (n) starts with the selected change in full: its why, risk, warnings and error are
  // never lost, even when the main view has to give their rows to the diff.
  const noteLines = useMemo(
    () => [
      ...(item
        ? [
            { text: `${changeAction(item.change)} ${changeLabel(item.change)}`, head: true, warn: false },
            { text: `  why: ${why}`, head: false, warn: false },
            ...(risk ? [{ text: `  risk: ${risk}`, head: false, warn: false }] : []),
            ...(item.dry?.warnings ?? []).map((w) => ({ text: `  ⚠ ${w}`, head: false, warn: true })),
            ...(item.dry?.error ? [{ text: `  ✗ ${item.dry.error}`, head: false, warn: true }] : []),
          ]
        : []),
      ...notes.flatMap((n) => [{ text: n.title, warn: n.warn, head: true }, ...n.lines.map((l) => ({ text: `  ${l}`, warn: n.warn, head: false }))]),
    ],
    [notes, item, why, risk],
  );

  const narrow = (columns || 80) < 120;
  const keys: KeyHint[] = [
    ['↑/↓', 'change'],
    [narrow ? 'j/k' : 'j/k space', 'scroll'],
    ...(narrow ? [] : [['g/G', 'top/end'] as KeyHint]),
    ['n', notes.length ? 'notes' : 'details'],
    ['enter', 'continue'],
    ...(onBack ? [['←', 'back'] as KeyHint] : []),
    narrow ? ['q', 'quit'] : QUIT_HINT,
  ];
  // The rows this screen may use (below the header row, above the key help), and how they are shared:
  // the diff keeps half the terminal, the details (why, risk) are whole, the list shrinks first.
  const roomy = termRows >= 40;
  const keyRows = keyHelpLayout(keys, columns).rows + (roomy ? 1 : 0);
  const budget = Math.max(10, termRows - 1 - keyRows - (roomy ? 1 : 0));
  const warnings = item?.dry?.warnings ?? [];
  const error = item?.dry?.error ?? '';
  const rowsOf = (text: string, prefix: number) => (text ? wrappedRows(`${' '.repeat(prefix)}${text}`, width) : 0);
  const warnShown = Math.min(2, warnings.length);
  let details = (roomy ? 1 : 0) + rowsOf(why, 5) + rowsOf(risk, 6) + warnShown + (warnings.length > 2 ? 1 : 0) + Math.min(2, rowsOf(error, 2));
  const fixedRows = 1 /* title */ + (notes.length ? 1 : 0) + 1 /* diff header */ + (roomy ? 1 : 0);
  const minDiff = Math.ceil(termRows / 2) - 1;
  const listMax = Math.max(1, Math.min(items.length, 8, budget - fixedRows - details - minDiff));
  const [from, to] = listWindow(items.length, selected, items.length > listMax ? Math.max(1, listMax - 1) : listMax);
  const listRows = to - from + (from > 0 ? 1 : 0) + (to < items.length ? 1 : 0);
  // When even the details do not fit beside half a screen of diff, the diff still keeps its half, and the
  // details are whole on the notes view (n), which the last detail row says.
  const fullDetails = details;
  if (fixedRows + listRows + details + minDiff > budget) details = Math.max(0, budget - fixedRows - listRows - minDiff);
  const cut = details < fullDetails;
  const height = viewportHeight ?? Math.max(3, budget - fixedRows - listRows - details);
  const total = useRef(lines.length);
  total.current = lines.length;

  useInput((input, key) => {
    const page = Math.max(1, height - 1);
    setView((v) => {
      if (v.notes) {
        if (input === 'n' || key.escape || key.return) return { ...v, notes: false };
        const clamp = (o: number) => Math.max(0, Math.min(o, Math.max(0, noteLines.length - budget + 2)));
        if (key.downArrow || input === 'j') return { ...v, notesOffset: clamp(v.notesOffset + 1) };
        if (key.upArrow || input === 'k') return { ...v, notesOffset: clamp(v.notesOffset - 1) };
        if (key.pageDown || input === ' ') return { ...v, notesOffset: clamp(v.notesOffset + page) };
        if (key.pageUp) return { ...v, notesOffset: clamp(v.notesOffset - page) };
        return v;
      }
      const scroll = (by: (o: number) => number) => ({ ...v, offset: clampOffset(by(v.offset), total.current, height) });
      if (key.upArrow || key.downArrow) {
        const next = Math.max(0, Math.min(items.length - 1, v.selected + (key.upArrow ? -1 : 1)));
        return next === v.selected ? v : { ...v, selected: next, offset: 0 };
      }
      if (input === 'j') return scroll((o) => o + 1);
      if (input === 'k') return scroll((o) => o - 1);
      if (key.pageDown || input === ' ') return scroll((o) => o + page);
      if (key.pageUp) return scroll((o) => o - page);
      if (input === 'g' || key.home) return scroll(() => 0);
      if (input === 'G' || key.end) return scroll(() => Number.MAX_SAFE_INTEGER);
      if (input === 'n') return { ...v, notes: true, notesOffset: 0 };
      return v;
    });
    if (view.notes) return;
    if (key.return) onContinue();
    else if (key.leftArrow && onBack) onBack();
    else if (input === 'q' || key.escape) onQuit();
  });

  const heading = (
    <Text bold wrap="truncate-end">
      {title ?? `Plan: ${plural(items.length, 'change')}`}
      {failed ? <Text color="red">{`  ${failed} failed the dry-run`}</Text> : null}
      {warned ? <Text color="yellow">{`  ${warned} with warnings`}</Text> : null}
    </Text>
  );

  if (view.notes) {
    const shown = noteLines.slice(view.notesOffset, view.notesOffset + budget - 2);
    return (
      <Box flexDirection="column" marginTop={roomy ? 1 : 0}>
        {heading}
        {shown.map((n, i) => (
          <Text key={view.notesOffset + i} wrap="truncate-end" color={n.warn ? 'yellow' : undefined} bold={n.head}>
            {n.text}
          </Text>
        ))}
        <KeyHelp
          width={columns}
          keys={[
            ['↑/↓ pgdn/pgup', 'scroll'],
            ['n/enter', 'back to the changes'],
          ]}
          tight={!roomy}
        />
      </Box>
    );
  }

  return (
    <Box flexDirection="column" marginTop={roomy ? 1 : 0}>
      {heading}
      {notes.length ? (
        <Text wrap="truncate-end" color={notes.some((n) => n.warn) ? 'yellow' : undefined} dimColor={!notes.some((n) => n.warn)}>
          {`notes (n): ${notes.map((n) => `${n.title}${n.lines.length ? ` (${n.lines.length})` : ''}`).join(' · ')}`}
        </Text>
      ) : null}
      {from > 0 ? <Text dimColor>{`  ↑ ${from} more`}</Text> : null}
      {items.slice(from, to).map((it, i) => {
        const idx = from + i;
        const here = idx === selected;
        const c = it.change;
        return (
          <Text key={c.id} wrap="truncate-end">
            <Text color={here ? 'cyan' : undefined}>{here ? '❯ ' : '  '}</Text>
            <Text bold={here}>{`${changeAction(c).padEnd(7)} ${changeLabel(c)}`}</Text>
            {'  '}
            <Text color={riskColor[c.risk]}>{`${c.risk} risk`}</Text>
            {'  '}
            <DryStatus dry={it.dry} />
          </Text>
        );
      })}
      {to < items.length ? <Text dimColor>{`  ↓ ${items.length - to} more`}</Text> : null}
      {item && details > 0 ? (
        <Box flexDirection="column" marginTop={roomy ? 1 : 0} height={details - (roomy ? 1 : 0) - (cut ? 1 : 0)} overflow="hidden">
          <Text wrap="wrap">
            <Text dimColor>why: </Text>
            {why}
          </Text>
          {risk ? <Text wrap="wrap" color={riskColor[item.change.risk]}>{`risk: ${risk}`}</Text> : null}
          {warnings.slice(0, 2).map((w, i) => (
            <Text key={i} color="yellow" wrap="truncate-end">{`⚠ ${w}`}</Text>
          ))}
          {warnings.length > 2 ? <Text dimColor>{`  +${warnings.length - 2} more warnings (kube-harden apply --preview prints them all)`}</Text> : null}
          {error ? <Text color="red" wrap="wrap">{`✗ ${error}`}</Text> : null}
        </Box>
      ) : null}
      {item && cut ? <Text dimColor>{'  … the rest of why and risk: n'}</Text> : null}
      <Box marginTop={roomy ? 1 : 0}>
        <DiffView lines={lines} offset={offset} height={height} />
      </Box>
      <KeyHelp width={columns} keys={keys} tight={!roomy} />
    </Box>
  );
}
