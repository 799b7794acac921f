import { Box, Text } from 'ink';
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
}

/** The live part of the apply; each finished change goes to the log above. */
export function ApplyProgress({ total, applied, failed, snapshotId, current, rollingBack, rollback }: ApplyProgressProps) {
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
      {current.slice(0, 5).map((c) => (
        <Text key={c} dimColor wrap="truncate-end">{`  → ${c}`}</Text>
      ))}
      <KeyHelp keys={[['', 'writing to the cluster: please wait (a kill is safe: kube-harden rollback restores)']]} />
    </Box>
  );
}
