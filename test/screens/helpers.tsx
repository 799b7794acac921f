import { stripVTControlCharacters } from 'node:util';

export const strip = (s: string | undefined): string => stripVTControlCharacters(s ?? '');

/** Let Ink attach its input handler (effects run after the first render). */
export const tick = () => new Promise<void>((r) => setImmediate(r));

/** Poll until `cond` holds; fails with the last frame after a deadline. Never waits for time alone. */
export async function waitFor(cond: () => boolean, describe: () => string = () => '', timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting; last frame:\n${describe()}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Wait for text in the (ANSI-stripped) last frame. */
export function frameHas(lastFrame: () => string | undefined, text: string, timeoutMs?: number): Promise<void> {
  return waitFor(
    () => strip(lastFrame()).includes(text),
    () => strip(lastFrame()),
    timeoutMs,
  );
}

export const KEY = {
  down: '\u001B[B',
  up: '\u001B[A',
  enter: '\r',
  pageDown: '\u001B[6~',
  pageUp: '\u001B[5~',
  backspace: '\u007F',
} as const;
