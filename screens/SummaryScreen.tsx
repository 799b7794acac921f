import { Box, Text } from 'ink';
import { plural } from './format.js';

export interface SummaryProps {
  context: string;
  total: number;
  applied: number;
  snapshotId: string;
  verify?: { fixed: number; remaining: number };
  failed?: { change: string; error: string; conflict: boolean };
  skipped?: number;
  rollback?: { restored: number; unchanged: number; failed: Array<{ change: string; error: string }> };
  rollbackError?: string;
  profile?: { name: string; saved: boolean; error?: string };
}

export const rollbackCommand = (snapshotId: string, context: string): string => `kube-harden rollback ${snapshotId} --context ${context}`;

export function SummaryScreen(p: SummaryProps) {
  const cmd = rollbackCommand(p.snapshotId, p.context);
  return (
    <Box flexDirection="column" marginTop={1}>
      {p.failed ? (
        <>
          <Text color="red" bold>{`✗ apply failed: ${p.failed.change}: ${p.failed.error}`}</Text>
          <Text>{`applied ${p.applied} of ${p.total} before the failure${p.skipped ? `, ${p.skipped} not started` : ''}`}</Text>
          {p.rollback ? (
            <Text color={p.rollback.failed.length ? 'red' : 'green'}>
              {`automatic rollback: ${p.rollback.restored} restored, ${p.rollback.unchanged} unchanged${p.rollback.failed.length ? `, ${p.rollback.failed.length} failed` : ''}`}
            </Text>
          ) : null}
          {p.rollback?.failed.slice(0, 5).map((f) => (
            <Text key={f.change} color="red" wrap="truncate-end">{`  ✗ ${f.change}: ${f.error}`}</Text>
          ))}
          {p.rollbackError ? <Text color="red">{`automatic rollback failed: ${p.rollbackError}`}</Text> : null}
        </>
      ) : (
        <Text color="green" bold>{`✓ applied ${p.applied} of ${plural(p.total, 'change')}`}</Text>
      )}
      {p.verify ? (
        <Text>
          {`fixed findings: ${p.verify.fixed}`}
          {p.verify.remaining ? <Text color="yellow">{`  (${p.verify.remaining} still reported)`}</Text> : null}
        </Text>
      ) : null}
      <Text>
        snapshot: <Text bold>{p.snapshotId}</Text>
      </Text>
      <Text>
        undo with: <Text color="cyan">{cmd}</Text>
      </Text>
      {p.profile ? (
        p.profile.saved ? (
          <Text>{`answers saved as profile "${p.profile.name}" (kube-harden apply --profile ${p.profile.name})`}</Text>
        ) : (
          <Text color="red">{`profile "${p.profile.name}" not saved: ${p.profile.error ?? 'unknown error'}`}</Text>
        )
      ) : null}
    </Box>
  );
}
