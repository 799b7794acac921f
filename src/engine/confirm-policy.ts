import type { Change } from './change.js';

export type Confirmation = 'auto' | 'ask' | 'type-the-name' | 'refuse';

export interface ConfirmInput {
  changes: Change[];
  interactive: boolean;
  yes?: boolean;
}

/** Pure: how much confirmation a plan needs before it is applied. */
export function confirmationFor({ changes, interactive, yes }: ConfirmInput): Confirmation {
  if (changes.length === 0) return 'auto';
  if (yes) return 'auto';
  if (!interactive) return 'refuse';
  const risky = changes.some((c) => c.risk === 'high') || changes.length > 25;
  return risky ? 'type-the-name' : 'ask';
}
