import { Box, Text } from 'ink';
import { KeyHelp } from './components/KeyHelp.js';
import { TextInput } from './components/TextInput.js';

export interface SaveProfileProps {
  error?: string;
  onSave: (name: string | undefined) => void;
}

/** At the end of every session: keep the answers as a named profile (empty: do not save). */
export function SaveProfileScreen({ error, onSave }: SaveProfileProps) {
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>Save these answers as a profile, to replay them on the next cluster? Name (empty: do not save):</Text>
      {error ? <Text color="red">{`✗ ${error}`}</Text> : null}
      <TextInput
        placeholder="e.g. prod-baseline"
        validate={(v) => (v === '' || /^[a-z0-9][a-z0-9._-]*$/i.test(v) ? undefined : 'letters, digits, dot, dash, underscore')}
        onSubmit={(v) => onSave(v.trim() || undefined)}
        onCancel={() => onSave(undefined)}
      />
      <KeyHelp
        keys={[
          ['enter', 'save (empty: skip)'],
          ['esc', 'skip'],
        ]}
      />
    </Box>
  );
}
