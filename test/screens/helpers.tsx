import { EventEmitter } from 'node:events';
import { render as inkRender } from 'ink';
import type React from 'react';
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

/** Render at a fixed terminal size (ink-testing-library renders at 100 columns, no rows); resize() emits a terminal resize. */
export function renderAt(tree: React.ReactElement, size: { columns: number; rows: number }) {
  const stdout = Object.assign(new EventEmitter(), {
    columns: size.columns,
    rows: size.rows,
    isTTY: true,
    frames: [] as string[],
    write(frame: string) {
      this.frames.push(frame);
      return true;
    },
  });
  const events = new EventEmitter();
  const stdin = Object.assign(events, {
    isTTY: true,
    data: null as string | null,
    setEncoding() {},
    setRawMode() {},
    resume() {},
    pause() {},
    ref() {},
    unref() {},
    read() {
      const d = stdin.data;
      stdin.data = null;
      return d;
    },
    write(data: string) {
      stdin.data = data;
      events.emit('readable');
      events.emit('data', data);
    },
  });
  const instance = inkRender(tree, {
    stdout: stdout as never,
    stderr: stdout as never,
    stdin: stdin as never,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  return {
    lastFrame: () => stdout.frames.at(-1) ?? '',
    stdin,
    unmount: () => instance.unmount(),
    resize(columns: number, rows: number) {
      stdout.columns = columns;
      stdout.rows = rows;
      stdout.emit('resize');
    },
  };
}
