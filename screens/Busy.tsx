import { Box, Text, useInput } from 'ink';
import { KeyHelp, QUIT_HINT } from './components/KeyHelp.js';
import { Spinner } from './components/Spinner.js';

export interface BusyProps {
  text: string;
  /** Extra progress lines under the spinner, e.g. one per area. */
  lines?: string[];
  /** Absent while quitting is no longer safe (during apply). */
  onQuit?: () => void;
}

/** A spinner with what is happening; q/Esc quits when that is still safe. */
export function Busy({ text, lines = [], onQuit }: BusyProps) {
  useInput(
    (input, key) => {
      if (input === 'q' || key.escape) onQuit?.();
    },
    { isActive: !!onQuit },
  );
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text>
        <Spinner /> {text}
      </Text>
      {lines.map((l, i) => (
        <Text key={i} dimColor wrap="truncate-end">{`  ${l}`}</Text>
      ))}
      <KeyHelp keys={onQuit ? [QUIT_HINT] : [['', 'please wait: writing to the cluster']]} />
    </Box>
  );
}
