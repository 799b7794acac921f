import { Box, Text } from 'ink';
import type { PipelineResult } from '../src/pipeline.js';
import { plural } from './format.js';

export interface SummaryProps {
  result: PipelineResult;
  profile?: { name: string; saved: boolean; error?: string };
}

/** The end of an apply: what landed, per area what is fixed and what is left and why, and the undo command. */
export function SummaryScreen({ result: r, profile }: SummaryProps) {
  const a = r.apply!;
  const total = r.changes.length;
  return (
    <Box flexDirection="column" marginTop={1}>
      {a.failed || a.journalError ? (
        <>
          <Text
            color="red"
            bold
            wrap="wrap"
          >{`✗ apply failed: ${a.failed ? `${a.failed.change.id}: ${a.failed.error}` : `the journal could not be written: ${a.journalError}`}`}</Text>
          <Text>{`applied ${a.applied} of ${total} before the failure${a.skipped ? `, ${a.skipped} not started` : ''}`}</Text>
        </>
      ) : a.rolloutFailures ? (
        <>
          <Text
            color="red"
            bold
          >{`✗ ${plural(a.rolloutFailures.states.length, 'rollout')} did not complete; ${a.skipped} change(s) after them were not applied`}</Text>
          {a.rolloutFailures.states.slice(0, 5).map((s) => (
            <Text key={s.id} color="red" wrap="wrap">{`  ✗ ${s.ref.kind.toLowerCase()}/${s.ref.name} in ${s.ref.namespace}: ${s.detail}`}</Text>
          ))}
          <Text>
            {a.rolloutFailures.decision === 'keep'
              ? 'they were kept as they are'
              : a.rolloutFailures.decision === 'rollback-all'
                ? 'everything applied was rolled back'
                : 'those workloads were rolled back; the rest stays hardened'}
          </Text>
        </>
      ) : (
        <Text color="green" bold>{`✓ applied ${a.applied} of ${plural(total, 'change')}`}</Text>
      )}
      {a.rollback ? (
        <Text color={a.rollback.failed.length || a.rollback.conflicts.length ? 'red' : 'green'}>
          {`rollback: ${a.rollback.restored} restored, ${a.rollback.unchanged} unchanged${a.rollback.failed.length ? `, ${a.rollback.failed.length} failed` : ''}${a.rollback.conflicts.length ? `, ${a.rollback.conflicts.length} changed since (left)` : ''}`}
        </Text>
      ) : null}
      {a.rollbackError ? <Text color="red">{`automatic rollback failed: ${a.rollbackError}`}</Text> : null}
      <Box flexDirection="column" marginTop={1}>
        {r.summary.map((s) => (
          <Box key={s.id} flexDirection="column">
            <Text>
              <Text bold>{s.title}</Text>
              {`: ${plural(s.changes, 'change')}`}
              {s.fixed !== undefined ? <Text color="green">{`, ${s.fixed} fixed`}</Text> : null}
              {s.left.length ? <Text color="yellow">{`, ${s.left.length} left`}</Text> : null}
            </Text>
            {s.left.slice(0, 3).map((l, i) => (
              <Text key={i} dimColor wrap="wrap">{`  · ${l.message} (${l.why})`}</Text>
            ))}
            {s.left.length > 3 ? <Text dimColor>{`  +${s.left.length - 3} more (kube-harden audit lists them)`}</Text> : null}
          </Box>
        ))}
      </Box>
      <Box flexDirection="column" marginTop={1}>
        <Text>
          snapshot: <Text bold>{a.snapshot.id}</Text>
        </Text>
        <Text wrap="wrap">
          undo with: <Text color="cyan">{r.undo}</Text>
        </Text>
      </Box>
      {profile ? (
        profile.saved ? (
          <Text>{`answers saved as profile "${profile.name}" (kube-harden apply --profile ${profile.name})`}</Text>
        ) : (
          <Text color="red">{`profile "${profile.name}" not saved: ${profile.error ?? 'unknown error'}`}</Text>
        )
      ) : null}
    </Box>
  );
}
