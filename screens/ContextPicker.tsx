import { Box, Text, useInput } from 'ink';
import type { ContextInfo } from '../src/cluster/kubeconfig.js';
import { KeyHelp, QUIT_HINT } from './components/KeyHelp.js';
import { Select } from './components/Select.js';

export interface ContextPickerProps {
  contexts: ContextInfo[];
  onPick: (name: string) => void;
  onQuit: () => void;
}

/** The current context first, then the others in kubeconfig order. */
export const orderContexts = (contexts: ContextInfo[]): ContextInfo[] => [...contexts.filter((c) => c.current), ...contexts.filter((c) => !c.current)];

export function ContextPicker({ contexts, onPick, onQuit }: ContextPickerProps) {
  useInput((input, key) => {
    if (input === 'q' || key.escape) onQuit();
  });
  const options = orderContexts(contexts).map((c) => ({
    value: c.name,
    label: `${c.name}${c.current ? ' (current)' : ''}`,
    hint: [c.server, c.user && `user ${c.user}`, c.namespace && `ns ${c.namespace}`].filter(Boolean).join('  '),
  }));
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold>Which cluster context should be hardened?</Text>
      <Select options={options} onSelect={onPick} />
      <KeyHelp keys={[['↑/↓', 'move'], ['enter', 'connect'], QUIT_HINT]} />
    </Box>
  );
}
