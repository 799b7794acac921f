import { Box, Text } from 'ink';

export interface OutcomeProps {
  tone: 'ok' | 'warn' | 'error';
  title: string;
  lines?: string[];
}

const COLOR = { ok: 'green', warn: 'yellow', error: 'red' } as const;

/** The last thing a run shows when it stops before or instead of applying: done, nothing to do, refused, error. */
export function Outcome({ tone, title, lines = [] }: OutcomeProps) {
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text color={COLOR[tone]} bold wrap="wrap">
        {title}
      </Text>
      {lines.slice(0, 20).map((l, i) => (
        <Text key={i} color={tone === 'error' ? 'red' : undefined} wrap="truncate-end">{`  ${l}`}</Text>
      ))}
      {lines.length > 20 ? <Text dimColor>{`  +${lines.length - 20} more`}</Text> : null}
    </Box>
  );
}
