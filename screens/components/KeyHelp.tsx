import { Box, Text } from 'ink';

export type KeyHint = [key: string, label: string];

/** The keys of the current screen, always visible at the bottom. */
export function KeyHelp({ keys }: { keys: KeyHint[] }) {
  return (
    <Box marginTop={1}>
      <Text dimColor>
        {keys.map(([k, label], i) => (
          <Text key={k}>
            {i > 0 ? '  ·  ' : ''}
            <Text bold>{k}</Text> {label}
          </Text>
        ))}
      </Text>
    </Box>
  );
}

export const QUIT_HINT: KeyHint = ['q/esc', 'quit (nothing written)'];
