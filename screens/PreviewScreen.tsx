import { useMemo, useRef, useState } from 'react';
import { Box, Text, useInput, useWindowSize } from 'ink';
import { changeAction, changeLabel, reasonText, type Change, type DryRunResult } from '../src/engine/change.js';
import type { DiffLine } from '../src/engine/diff.js';
import { clampOffset, DiffView } from './components/DiffView.js';
import { KeyHelp, QUIT_HINT } from './components/KeyHelp.js';
import { capLines, plural, riskColor } from './format.js';

export interface PreviewItem {
  change: Change;
  dry?: DryRunResult;
}

export interface PreviewScreenProps {
  title?: string;
  items: PreviewItem[];
  /** The typed diff lines of a change; the caller memoises it per change. */
  diffFor: (change: Change, dry?: DryRunResult) => DiffLine[];
  /** Impact tables, guards, findings left: shown above the changes. */
  notes?: Array<{ title: string; lines: string[]; warn?: boolean }>;
  /** Rows of the diff viewport; by default what the terminal has room for. */
  viewportHeight?: number;
  onContinue: () => void;
  onBack?: () => void;
  onQuit: () => void;
}

const LIST_MAX = 8;
/** Header, margins, titles and key help around the list, the details and the diff. */
const CHROME_ROWS = 10;

function DryStatus({ dry }: { dry?: DryRunResult }) {
  if (!dry) return <Text dimColor>· not dry-run</Text>;
  if (!dry.ok) return <Text color="red">✗ dry-run error</Text>;
  if (dry.deferred) return <Text dimColor>… dry-run when applied</Text>;
  if (dry.warnings.length) return <Text color="yellow">{`⚠ ${plural(dry.warnings.length, 'warning')}`}</Text>;
  return <Text color="green">✓ dry-run ok</Text>;
}

/** The window of the change list around the selection. */
function listWindow(total: number, selected: number): [number, number] {
  if (total <= LIST_MAX) return [0, total];
  const start = Math.max(0, Math.min(selected - Math.floor(LIST_MAX / 2), total - LIST_MAX));
  return [start, start + LIST_MAX];
}

export function PreviewScreen({ title, items, diffFor, notes = [], viewportHeight, onContinue, onBack, onQuit }: PreviewScreenProps) {
  const { rows } = useWindowSize();
  // One state object updated functionally: keys that arrive in one burst (key repeat, a paste) all count.
  const [view, setView] = useState({ selected: 0, offset: 0 });
  const { selected, offset } = view;
  const item = items[selected];
  const lines = useMemo(() => (item ? diffFor(item.change, item.dry) : []), [item, diffFor]);
  const noteLines = notes
    .flatMap((n) => [{ text: n.title, warn: n.warn, head: true }, ...capLines(n.lines, 4).shown.map((l) => ({ text: `  ${l}`, warn: n.warn, head: false }))])
    .slice(0, 8);
  const [from, to] = listWindow(items.length, selected);
  const failed = items.filter((i) => i.dry && !i.dry.ok).length;
  const warned = items.filter((i) => i.dry?.ok && i.dry.warnings.length).length;
  const warnings = capLines(item?.dry?.warnings ?? [], 4);
  // The diff gets the rows the rest of the screen leaves: the live area must fit the terminal, or Ink redraws it all.
  const listRows = to - from + (from > 0 ? 1 : 0) + (to < items.length ? 1 : 0);
  const riskNote = item?.change.riskNotes.join('; ');
  const detailRows = 1 + (riskNote ? 1 : 0) + warnings.shown.length + (warnings.more ? 1 : 0) + (item?.dry?.error ? 1 : 0) + noteLines.length;
  const height = viewportHeight ?? Math.max(5, (rows || 24) - CHROME_ROWS - listRows - detailRows);
  const total = useRef(lines.length);
  total.current = lines.length;

  useInput((input, key) => {
    const page = Math.max(1, height - 1);
    const scroll = (by: (o: number) => number) => setView((v) => ({ ...v, offset: clampOffset(by(v.offset), total.current, height) }));
    const select = (d: number) =>
      setView((v) => {
        const next = Math.max(0, Math.min(items.length - 1, v.selected + d));
        return next === v.selected ? v : { selected: next, offset: 0 };
      });
    if (key.upArrow) select(-1);
    else if (key.downArrow) select(1);
    else if (input === 'j') scroll((o) => o + 1);
    else if (input === 'k') scroll((o) => o - 1);
    else if (key.pageDown || input === ' ') scroll((o) => o + page);
    else if (key.pageUp) scroll((o) => o - page);
    else if (input === 'g' || key.home) scroll(() => 0);
    else if (input === 'G' || key.end) scroll(() => Number.MAX_SAFE_INTEGER);
    else if (key.return) onContinue();
    else if (key.leftArrow && onBack) onBack();
    else if (input === 'q' || key.escape) onQuit();
  });

  return (
    <Box flexDirection="column" marginTop={1}>
      {noteLines.map((n, i) => (
        <Text key={`n${i}`} wrap="truncate-end" color={n.warn ? 'yellow' : undefined} bold={n.head} dimColor={!n.warn && !n.head}>
          {n.text}
        </Text>
      ))}
      <Text bold>
        {title ?? `Plan: ${plural(items.length, 'change')}`}
        {failed ? <Text color="red">{`  ${failed} failed the dry-run`}</Text> : null}
        {warned ? <Text color="yellow">{`  ${warned} with warnings`}</Text> : null}
      </Text>
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
      {item ? (
        <Box flexDirection="column" marginTop={1}>
          <Text wrap="truncate-end">
            <Text dimColor>why: </Text>
            {reasonText(item.change)}
          </Text>
          {riskNote ? <Text wrap="truncate-end" color={riskColor[item.change.risk]}>{`risk: ${riskNote}`}</Text> : null}
          {warnings.shown.map((w, i) => (
            <Text key={i} color="yellow" wrap="truncate-end">{`⚠ ${w}`}</Text>
          ))}
          {warnings.more ? <Text dimColor>{`  +${warnings.more} more warnings`}</Text> : null}
          {item.dry?.error ? <Text color="red" wrap="truncate-end">{`✗ ${item.dry.error}`}</Text> : null}
        </Box>
      ) : null}
      <Box marginTop={1}>
        <DiffView lines={lines} offset={offset} height={height} />
      </Box>
      <KeyHelp
        keys={[
          ['↑/↓', 'change'],
          ['j/k pgdn/pgup space', 'scroll'],
          ['g/G', 'top/bottom'],
          ['enter', 'continue'],
          ...(onBack ? [['←', 'back'] as [string, string]] : []),
          QUIT_HINT,
        ]}
      />
    </Box>
  );
}
