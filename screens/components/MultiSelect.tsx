import { useReducer, useRef } from 'react';
import { Box, Text, useInput } from 'ink';
import type { Choice } from '../../src/areas/types.js';

export interface MultiSelectProps {
  choices: Choice[];
  initial: string[];
  onSubmit: (values: string[]) => void;
  onQuit?: () => void;
  onBack?: () => void;
  isActive?: boolean;
  /** At most this many rows of choices (a window around the cursor); default all. */
  limit?: number;
}

/** ↑/↓ move, space toggles, a selects all/none, Enter confirms. */
export function MultiSelect({ choices, initial, onSubmit, onQuit, onBack, isActive = true, limit }: MultiSelectProps) {
  // The state lives in a ref and every key reads the latest: keys that arrive in one burst (key repeat,
  // "space then Enter") all count. A counter re-renders.
  const st = useRef({ cursor: 0, selected: new Set(initial.filter((v) => choices.some((c) => c.value === v))) });
  const [, rerender] = useReducer((x: number) => x + 1, 0);
  const { cursor, selected } = st.current;
  const n = Math.max(choices.length, 1);

  useInput(
    (input, key) => {
      const s = st.current;
      if (key.upArrow || input === 'k') s.cursor = (s.cursor - 1 + n) % n;
      else if (key.downArrow || input === 'j') s.cursor = (s.cursor + 1) % n;
      else if (input === ' ') {
        const v = choices[s.cursor]?.value;
        if (v === undefined) return;
        s.selected = new Set(s.selected);
        if (s.selected.has(v)) s.selected.delete(v);
        else s.selected.add(v);
      } else if (input === 'a') {
        s.selected = s.selected.size === choices.length ? new Set<string>() : new Set(choices.map((c) => c.value));
      } else if (key.return) {
        // In choice order, so answers are stable whatever the toggling order was.
        return onSubmit(choices.filter((c) => s.selected.has(c.value)).map((c) => c.value));
      } else if (key.leftArrow) return onBack?.();
      else if (input === 'q' || key.escape) return onQuit?.();
      else return;
      rerender();
    },
    { isActive },
  );

  const max = limit && choices.length > limit ? Math.max(1, limit - 2) : choices.length;
  const start = Math.max(0, Math.min(cursor - Math.floor(max / 2), choices.length - max));
  return (
    <Box flexDirection="column">
      {start > 0 ? <Text dimColor>{`  ↑ ${start} more`}</Text> : null}
      {choices.slice(start, start + max).map((c, j) => {
        const i = start + j;
        const on = selected.has(c.value);
        const here = i === cursor;
        return (
          <Text key={c.value} wrap="truncate-end">
            <Text color={here ? 'cyan' : undefined}>{here ? '❯ ' : '  '}</Text>
            <Text color={on ? 'green' : undefined}>{on ? '[x]' : '[ ]'}</Text> <Text bold={here}>{c.label}</Text>
            {c.hint ? <Text dimColor>{`  ${c.hint}`}</Text> : null}
          </Text>
        );
      })}
      {start + max < choices.length ? <Text dimColor>{`  ↓ ${choices.length - start - max} more`}</Text> : null}
      <Text dimColor>{`${selected.size} of ${choices.length} selected`}</Text>
    </Box>
  );
}
