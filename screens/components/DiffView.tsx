import { memo } from 'react';
import { Box, Text } from 'ink';
import type { DiffLine } from '../../src/engine/diff.js';
import { diffColor } from '../format.js';

export interface DiffViewProps {
  lines: DiffLine[];
  offset: number;
  height: number;
}

/** Clamp a scroll offset so the viewport stays inside the diff. */
export const clampOffset = (offset: number, total: number, height: number): number => Math.max(0, Math.min(offset, Math.max(0, total - height)));

/** Renders only the visible slice: a 20,000-line diff costs the same as a 20-line one. */
export const DiffView = memo(function DiffView({ lines, offset, height }: DiffViewProps) {
  const start = clampOffset(offset, lines.length, height);
  const visible = lines.slice(start, start + height);
  return (
    <Box flexDirection="column">
      <Text dimColor>{lines.length ? `diff · lines ${start + 1}–${start + visible.length} of ${lines.length}` : 'diff · (empty)'}</Text>
      {visible.map((l, i) => (
        <Text key={start + i} color={diffColor[l.type]} bold={l.type === 'header'} wrap="truncate-end">
          {l.text || ' '}
        </Text>
      ))}
    </Box>
  );
});
