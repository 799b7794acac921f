import { Box, Text } from 'ink';
import { KeyHelp, QUIT_HINT } from './components/KeyHelp.js';
import { TextInput } from './components/TextInput.js';
import { YesNo } from './components/YesNo.js';
import { plural } from './format.js';

export interface ConfirmScreenProps {
  mode: 'ask' | 'type-the-name';
  count: number;
  context: string;
  /** Why the plan counts as risky (type-the-name). */
  reasons: string[];
  onConfirm: () => void;
  onCancel: () => void;
}

export function ConfirmScreen({ mode, count, context, reasons, onConfirm, onCancel }: ConfirmScreenProps) {
  if (mode === 'ask') {
    return (
      <Box flexDirection="column" marginTop={1}>
        <Text>
          <Text bold>{`Apply ${plural(count, 'change')} to ${context}?`}</Text>{' '}
          <YesNo initial={false} onAnswer={(yes) => (yes ? onConfirm() : onCancel())} onQuit={onCancel} />
        </Text>
        <Text dimColor>A snapshot is taken first; every change can be rolled back.</Text>
        <KeyHelp keys={[['y', 'apply'], ['n/enter', 'do not apply'], QUIT_HINT]} />
      </Box>
    );
  }
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold color="yellow" wrap="wrap">
        {`These changes are risky (${reasons.join('; ')}); type the context name `}
        <Text color="cyan">{context}</Text>
        {` to apply ${plural(count, 'change')}:`}
      </Text>
      <TextInput
        validate={(v) => (v === context ? undefined : `"${v}" is not "${context}": nothing applied; type it exactly, or Esc to quit`)}
        onSubmit={onConfirm}
        onCancel={onCancel}
      />
      <Text dimColor>A snapshot is taken first; every change can be rolled back.</Text>
      <KeyHelp
        keys={[
          ['enter', 'apply'],
          ['esc', 'quit (nothing written)'],
        ]}
      />
    </Box>
  );
}
