import { useReducer, useRef } from 'react';
import { Box, Text, useInput } from 'ink';
import type { Choice } from '../../src/areas/types.js';

export interface PerItemProps {
  items: Choice[];
  choices: Choice[];
  initial: Record<string, string>;
  onSubmit: (value: Record<string, string>) => void;
  onQuit?: () => void;
  onBack?: () => void;
  /** At most this many rows of items (a window around the cursor). */
  limit?: number;
}

/** One choice per item: ↑/↓ move, space or → cycles the item's choice, Enter confirms. */
export function PerItem({ items, choices, initial, onSubmit, onQuit, onBack, limit }: PerItemProps) {
  const first = choices[0]?.value ?? '';
  const st = useRef({ cursor: 0, value: Object.fromEntries(items.map((i) => [i.value, initial[i.value] ?? first])) as Record<string, string> });
  const [, rerender] = useReducer((x: number) => x + 1, 0);
  const n = Math.max(items.length, 1);
  useInput((input, key) => {
    const s = st.current;
    if (key.upArrow || input === 'k') s.cursor = (s.cursor - 1 + n) % n;
    else if (key.downArrow || input === 'j') s.cursor = (s.cursor + 1) % n;
    else if (input === ' ' || key.rightArrow) {
      const item = items[s.cursor]?.value;
      if (item === undefined) return;
      const i = choices.findIndex((c) => c.value === s.value[item]);
      s.value = { ...s.value, [item]: choices[(i + 1) % choices.length].value };
    } else if (key.leftArrow) return onBack?.();
    else if (key.return) return onSubmit(s.value);
    else if (input === 'q' || key.escape) return onQuit?.();
    else return;
    rerender();
  });
  const { cursor, value } = st.current;
  const choiceWidth = Math.max(...choices.map((c) => c.label.length)) + 2;
  const max = limit && items.length > limit ? Math.max(1, limit - 2) : items.length;
  const start = Math.max(0, Math.min(cursor - Math.floor(max / 2), items.length - max));
  return (
    <Box flexDirection="column">
      {start > 0 ? <Text dimColor>{`  ↑ ${start} more`}</Text> : null}
      {items.slice(start, start + max).map((it, j) => {
        const i = start + j;
        const here = i === cursor;
        const c = choices.find((x) => x.value === value[it.value]);
        return (
          <Text key={it.value} wrap="truncate-end">
            <Text color={here ? 'cyan' : undefined}>{here ? '❯ ' : '  '}</Text>
            {/* The choice first: on a narrow terminal a long label is cut, never the answer. */}
            <Text color="green">{`[${c?.label ?? value[it.value]}]`.padEnd(choiceWidth)}</Text> <Text bold={here}>{it.label}</Text>
            {it.hint ? <Text dimColor>{`  ${it.hint}`}</Text> : null}
          </Text>
        );
      })}
      {start + max < items.length ? <Text dimColor>{`  ↓ ${items.length - start - max} more`}</Text> : null}
    </Box>
  );
}
