import { Box, Static, Text } from 'ink';

export type Tone = 'ok' | 'fail' | 'warn' | 'info';

export interface LogLine {
  text: string;
  tone?: Tone;
}

/** A finished step: printed once, above the live part of the screen. */
export interface LogEntry extends LogLine {
  key: string;
  sub?: LogLine[];
}

const MARK: Record<Tone, { mark: string; color?: string }> = {
  ok: { mark: '✓', color: 'green' },
  fail: { mark: '✗', color: 'red' },
  warn: { mark: '⚠', color: 'yellow' },
  info: { mark: '·', color: undefined },
};

export function LogItem({ entry }: { entry: LogEntry }) {
  const m = MARK[entry.tone ?? 'info'];
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        <Text color={m.color}>{m.mark}</Text> <Text color={entry.tone === 'fail' ? 'red' : undefined}>{entry.text}</Text>
      </Text>
      {(entry.sub ?? []).map((s, i) => (
        <Text key={i} wrap="truncate-end" color={s.tone === 'fail' ? 'red' : s.tone === 'warn' ? 'yellow' : undefined} dimColor={!s.tone || s.tone === 'info'}>
          {`    ${s.text}`}
        </Text>
      ))}
    </Box>
  );
}

/** Finished steps in Ink's <Static>: written once, never redrawn. */
export function Log({ entries }: { entries: LogEntry[] }) {
  return <Static items={entries}>{(e) => <LogItem key={e.key} entry={e} />}</Static>;
}
