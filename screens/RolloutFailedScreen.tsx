import { Box, Text } from 'ink';
import type { RolloutDecision } from '../src/engine/apply.js';
import type { RolloutState } from '../src/engine/rollout.js';
import { KeyHelp } from './components/KeyHelp.js';
import { Select } from './components/Select.js';

export interface RolloutFailedProps {
  states: RolloutState[];
  onChoose: (d: RolloutDecision) => void;
}

/** Some rollouts stalled: what now? Nothing else is applied until the user chooses. */
export function RolloutFailedScreen({ states, onChoose }: RolloutFailedProps) {
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text bold color="red">{`The rollout of ${states.length} workload(s) did not complete:`}</Text>
      {states.slice(0, 8).map((s) => (
        <Text key={s.id} color="red" wrap="wrap">{`  ✗ ${s.ref.kind.toLowerCase()}/${s.ref.name} in ${s.ref.namespace}: ${s.detail}`}</Text>
      ))}
      <Text dimColor>The changes after this wave are not applied.</Text>
      <Box marginTop={1}>
        <Select
          options={[
            { value: 'rollback-failed', label: 'Roll back these workloads', hint: 'the rest stays hardened (recommended)' },
            { value: 'rollback-all', label: 'Roll back everything applied so far' },
            { value: 'keep', label: 'Keep them as they are', hint: 'fix the cause by hand; kube-harden rollback undoes later' },
          ]}
          onSelect={(v) => onChoose(v as RolloutDecision)}
        />
      </Box>
      <KeyHelp
        keys={[
          ['↑/↓', 'move'],
          ['enter', 'choose'],
        ]}
      />
    </Box>
  );
}
