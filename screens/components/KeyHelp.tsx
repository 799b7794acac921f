import { Box, Text } from 'ink';

export type KeyHint = [key: string, label: string];

/**
 * The keys of the current screen, always visible at the bottom. On a narrow terminal the labels are
 * shortened to their first word so the help keeps to two rows.
 */
/** How the key help is laid out at a width: compact (labels cut to their first word) when the full one needs two rows. */
export function keyHelpLayout(keys: KeyHint[], width?: number): { compact: boolean; rows: number } {
  const full = keys.map(([k, l]) => `${k} ${l}`).join('  ·  ');
  if (width === undefined || full.length <= width - 1) return { compact: false, rows: 1 };
  const short = keys.map(([k, l]) => `${k} ${l.split(/[ (]/)[0]}`).join(' · ');
  return { compact: true, rows: short.length <= width - 1 ? 1 : 2 };
}

export function KeyHelp({ keys, width, tight }: { keys: KeyHint[]; width?: number; tight?: boolean }) {
  const { compact } = keyHelpLayout(keys, width);
  const shown: KeyHint[] = compact ? keys.map(([k, l]) => [k, l.split(/[ (]/)[0]]) : keys;
  return (
    <Box marginTop={tight ? 0 : 1}>
      <Text dimColor>
        {shown.map(([k, label], i) => (
          <Text key={`${k}-${i}`}>
            {i > 0 ? (compact ? ' · ' : '  ·  ') : ''}
            <Text bold>{k}</Text> {label}
          </Text>
        ))}
      </Text>
    </Box>
  );
}

export const QUIT_HINT: KeyHint = ['q/esc', 'quit (nothing written)'];
