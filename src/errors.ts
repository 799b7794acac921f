import { ClusterError } from './cluster/errors.js';

/** Exit codes of the command-line contract. */
export const EXIT = {
  ok: 0,
  findings: 1,
  changeFailed: 1,
  usage: 2,
  cluster: 3,
  safety: 4,
} as const;

/** Bad flags, a malformed profile, an unknown snapshot: the user's input, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Refused for safety: a conflict, drift, a lock-out, missing permissions. Exit 4. */
export class SafetyError extends Error {
  readonly details: string[];
  constructor(message: string, details: string[] = []) {
    super(message);
    this.name = 'SafetyError';
    this.details = details;
  }
}

/** A change failed to apply (after any automatic rollback). Exit 1. */
export class ApplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApplyError';
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof SafetyError) return EXIT.safety;
  if (err instanceof ApplyError) return EXIT.changeFailed;
  if (err instanceof ClusterError) {
    if (err.kind === 'Config') return EXIT.usage;
    if (err.kind === 'Conflict') return EXIT.safety;
    if (err.kind === 'Unreachable' || err.kind === 'Unauthorized' || err.kind === 'Timeout') return EXIT.cluster;
    if (err.kind === 'Forbidden') return EXIT.safety;
    return EXIT.changeFailed;
  }
  return EXIT.changeFailed;
}

/** One line for the user: never a stack trace. */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0];
}
