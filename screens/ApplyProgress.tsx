import { Box, Text } from 'ink';
import type { RolloutState } from '../src/engine/rollout.js';
import { KeyHelp } from './components/KeyHelp.js';
import { Spinner } from './components/Spinner.js';

export interface ApplyProgressProps {
  total: number;
  applied: number;
  failed: number;
  snapshotId?: string;
  /** What is being written right now. */
  current: string[];
  rollingBack: boolean;
  rollback?: { restored: number; failed: number; total?: number };
  /** The rollout wave being written or followed. */
  wave?: { index: number; total: number; size: number };
  rollouts?: RolloutState[];
}

/** The live part of the apply; each finished change goes to the log above. */
export function ApplyProgress({ total, applied, failed, snapshotId, current, rollingBack, rollback, wave, rollouts = [] }: ApplyProgressProps) {
  const waiting = rollouts.filter((r) => r.state === 'waiting');
  const ready = rollouts.filter((r) => r.state === 'ready').length;
  const stalled = rollouts.filter((r) => r.state === 'failed');
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text>{snapshotId ? <Text>{`snapshot ${snapshotId} saved`}</Text> : <Text dimColor>checking permissions, taking the snapshot…</Text>}</Text>
      <Text>
        <Spinner />{' '}
        {rollingBack ? (
          <Text color="yellow">{`rolling back: ${rollback?.restored ?? 0}${rollback?.total ? `/${rollback.total}` : ''} restored${rollback?.failed ? `, ${rollback.failed} failed` : ''}`}</Text>
        ) : (
          <Text>
            {`applying ${applied}/${total}`}
            {failed ? <Text color="red">{`  ${failed} failed`}</Text> : null}
          </Text>
        )}
      </Text>
      {wave ? (
        <Text>
          {`rollout wave ${wave.index}/${wave.total} (${wave.size} workload(s)): ${ready} ready`}
          {waiting.length ? <Text dimColor>{`, ${waiting.length} rolling out`}</Text> : null}
          {stalled.length ? <Text color="red">{`, ${stalled.length} stalled`}</Text> : null}
        </Text>
      ) : null}
      {[...stalled, ...waiting].slice(0, 4).map((r) => (
        <Text
          key={r.id}
          dimColor={r.state !== 'failed'}
          color={r.state === 'failed' ? 'red' : undefined}
          wrap="truncate-end"
        >{`  ${r.state === 'failed' ? '✗' : '…'} ${r.ref.kind.toLowerCase()}/${r.ref.name}: ${r.detail}`}</Text>
      ))}
      {current.slice(0, 5).map((c) => (
        <Text key={c} dimColor wrap="truncate-end">{`  → ${c}`}</Text>
      ))}
      <KeyHelp keys={[['', 'writing to the cluster: please wait (a kill is safe: kube-harden rollback restores)']]} />
    </Box>
  );
}
