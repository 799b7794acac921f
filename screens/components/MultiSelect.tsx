import { useState } from 'react';
import { Box, Text, useInput } from 'ink';
import type { Choice } from '../../src/areas/types.js';

export interface MultiSelectProps {
  choices: Choice[];
  initial: string[];
  onSubmit: (values: string[]) => void;
  onQuit?: () => void;
  isActive?: boolean;
}

/** ↑/↓ move, space toggles, a selects all/none, Enter confirms. */
export function MultiSelect({ choices, initial, onSubmit, onQuit, isActive = true }: MultiSelectProps) {
  const [cursor, setCursor] = useState(0);
  const [selected, setSelected] = useState<Set<string>>(() => new Set(initial.filter((v) => choices.some((c) => c.value === v))));

  useInput(
    (input, key) => {
      if (key.upArrow || input === 'k') setCursor((c) => (c - 1 + choices.length) % Math.max(choices.length, 1));
      else if (key.downArrow || input === 'j') setCursor((c) => (c + 1) % Math.max(choices.length, 1));
      else if (input === ' ') {
        const v = choices[cursor]?.value;
        if (v === undefined) return;
        setSelected((s) => {
          const n = new Set(s);
          if (n.has(v)) n.delete(v);
          else n.add(v);
          return n;
        });
      } else if (input === 'a') {
        setSelected((s) => (s.size === choices.length ? new Set() : new Set(choices.map((c) => c.value))));
      } else if (key.return) {
        // In choice order, so answers are stable whatever the toggling order was.
        onSubmit(choices.filter((c) => selected.has(c.value)).map((c) => c.value));
      } else if (input === 'q' || key.escape) onQuit?.();
    },
    { isActive },
  );

  return (
    <Box flexDirection="column">
      {choices.map((c, i) => {
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
      <Text dimColor>{`${selected.size} of ${choices.length} selected`}</Text>
    </Box>
  );
}
