import { useState } from 'react';
import { Box, Text, useInput } from 'ink';
import { KeyHelp } from './components/KeyHelp.js';
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
  /** Write the plan to this folder as files instead of applying it (Tab). */
  onOut?: (dir: string) => void;
}

function OutPrompt({ onOut, onBack }: { onOut: (dir: string) => void; onBack: () => void }) {
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>Write the plan as files (a kustomization with patches and a README) to which folder? Nothing is written to the cluster.</Text>
      <TextInput initial="./kube-harden-plan" validate={(v) => (v.trim() ? undefined : 'a folder')} onSubmit={(v) => onOut(v.trim())} onCancel={onBack} />
      <KeyHelp
        keys={[
          ['enter', 'write'],
          ['esc', 'back'],
        ]}
      />
    </Box>
  );
}

export function ConfirmScreen({ mode, count, context, reasons, onConfirm, onCancel, onOut }: ConfirmScreenProps) {
  const [out, setOut] = useState(false);
  useInput(
    (_input, key) => {
      if (key.tab && onOut) setOut(true);
    },
    { isActive: !out },
  );
  if (out && onOut) return <OutPrompt onOut={onOut} onBack={() => setOut(false)} />;
  const tab: Array<[string, string]> = onOut ? [['tab', 'write files instead']] : [];
  if (mode === 'ask') {
    return (
      <Box flexDirection="column" marginTop={1}>
        <Text>
          <Text bold>{`Apply ${plural(count, 'change')} to ${context}?`}</Text>{' '}
          <YesNo initial={false} onAnswer={(yes) => (yes ? onConfirm() : onCancel())} onQuit={onCancel} />
        </Text>
        <Text dimColor>A snapshot is taken first; every change can be rolled back.</Text>
        <KeyHelp keys={[['y', 'apply'], ['n/enter/esc', 'do not apply'], ...tab]} />
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
        validate={(v) => (v === context ? undefined : `"${v}" is not "${context}": nothing applied; type it exactly, or Esc not to apply`)}
        onSubmit={onConfirm}
        onCancel={onCancel}
      />
      <Text dimColor>A snapshot is taken first; every change can be rolled back.</Text>
      <KeyHelp keys={[['enter', 'apply'], ...tab, ['esc', 'do not apply']]} />
    </Box>
  );
}
