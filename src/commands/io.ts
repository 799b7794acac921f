import { createInterface } from 'node:readline/promises';

export interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
  namespaces?: string[];
  concurrency?: number;
}

export const interactive = () => !!process.stdin.isTTY && !!process.stderr.isTTY && !process.env.CI;

const started = Date.now();
/** A progress line on stderr, stamped with the seconds since start. */
export function progress(line: string): void {
  const mem = process.env.KUBE_HARDEN_DEBUG ? ` (rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB)` : '';
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s]${mem} ${line}\n`);
}

/** A plain prompt for the non-Ink commands (rollback, apply without --yes on a terminal). */
export async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}
