// Drive the real binary in a pseudo-terminal, as a person at a keyboard would.
import pty from '@lydell/node-pty';
import { after } from 'node:test';
import { stripVTControlCharacters } from 'node:util';
import { BIN } from '../helpers.js';

export interface Term {
  /** Everything printed so far, ANSI stripped. */
  text(): string;
  /** The text printed since the last `mark()`. */
  sinceMark(): string;
  mark(): void;
  /**
   * Type keys. Ink attaches a screen's key handler in an effect, just after the frame is drawn, so a
   * key sent the instant a prompt appears can land before anyone listens: give it a moment first.
   */
  write(keys: string): Promise<void>;
  waitFor(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  exit: Promise<{ exitCode: number; signal?: number }>;
  kill(): void;
}

const live = new Set<{ kill(signal?: string): void }>();
// A test that failed halfway leaves its session waiting for keys: end them all, or the file never exits.
after(() => {
  for (const p of live) p.kill('SIGKILL');
});

export function spawnCli(args: string[], env: Record<string, string>, size = { cols: 120, rows: 40 }): Term {
  const cleanEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'CI') cleanEnv[k] = v;
  const p = pty.spawn(process.execPath, [BIN, ...args], { name: 'xterm-256color', ...size, env: { ...cleanEnv, FORCE_COLOR: '1', ...env } });
  live.add(p);
  let raw = '';
  let markAt = 0;
  p.onData((d) => {
    raw += d;
  });
  const exit = new Promise<{ exitCode: number; signal?: number }>((resolve) =>
    p.onExit((e) => {
      live.delete(p);
      resolve(e);
    }),
  );
  const text = () => stripVTControlCharacters(raw);
  return {
    text,
    sinceMark: () => stripVTControlCharacters(raw.slice(markAt)),
    mark: () => {
      markAt = raw.length;
    },
    write: async (keys) => {
      await new Promise((r) => setTimeout(r, 150));
      p.write(keys);
    },
    kill: () => p.kill('SIGKILL'),
    exit,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
      let exited = false;
      void exit.then(() => {
        exited = true;
      });
      for (;;) {
        const t = stripVTControlCharacters(raw.slice(markAt));
        if (re.test(t)) return t;
        if (exited || Date.now() > deadline) {
          throw new Error(`${exited ? 'exited' : 'timed out'} waiting for ${re}; screen was:\n${t.slice(-3000)}`);
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
