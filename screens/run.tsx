import { render } from 'ink';
import { App } from './App.js';
import type { HardenOptions } from '../src/harden.js';

export type { HardenOptions } from '../src/harden.js';

/**
 * The guided session: renders the wizard and resolves with the process exit code once it is over
 * (0 done or nothing to do or quit before writing, 1 a change failed, 2 bad input, 3 cluster
 * unreachable or unauthorised, 4 refused for safety, 130 interrupted during apply).
 */
export async function runHarden(opts: HardenOptions): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    // Ink needs raw mode to read keys, and a terminal to draw on; without one there is no one to answer the questions.
    process.stderr.write(
      'kube-harden: the guided session needs a terminal; for scripts and CI use `kube-harden apply --profile NAME` or `kube-harden audit`\n',
    );
    return 2;
  }
  const app = render(<App opts={opts} />, { exitOnCtrlC: false });
  const result = (await app.waitUntilExit()) as number | { code: number; epilogue: string } | undefined;
  if (typeof result === 'object' && result) {
    // Printed after Ink is done, as one plain line: the terminal wraps it softly, so it pastes whole.
    process.stdout.write(`\n${result.epilogue}\n`);
    return result.code;
  }
  return typeof result === 'number' ? result : 0;
}
