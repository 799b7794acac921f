import { useCallback, useEffect, useRef, useState } from 'react';
import type { HeaderInfo } from '../components/Header.js';
import { defaultCore, type WizardCore } from '../core.js';
import { Quit, runFlow, type HardenOptions, type Screen, type Ui } from '../flow.js';
import type { LogEntry } from '../Log.js';

export interface Wizard {
  screen: Screen;
  header: HeaderInfo;
  log: LogEntry[];
  /** Set once the run is over: the process exit code. */
  exitCode?: number;
  /** q / Esc: leave without writing anything (ignored once writes are in flight). */
  quit: () => void;
  /** Ctrl+C: like quit, but also stops waiting during an apply (the journal lets `rollback` finish the job). */
  interrupt: () => void;
}

interface Control {
  done: boolean;
  writing: boolean;
  reject?: (e: Error) => void;
}

/** The wizard's state machine: runs the flow once and turns its Ui calls into React state. */
export function useWizard(opts: HardenOptions, core: WizardCore = defaultCore): Wizard {
  const [screen, setScreen] = useState<Screen>({ name: 'busy', text: 'starting…', quittable: true });
  const [header, setHeader] = useState<HeaderInfo>({ context: opts.context, preview: opts.preview });
  const [log, setLog] = useState<LogEntry[]>([]);
  const [exitCode, setExitCode] = useState<number>();
  const ctl = useRef<Control>({ done: false, writing: false });

  const finish = useCallback(async (last: Screen, code: number) => {
    const c = ctl.current;
    if (c.done) return;
    c.done = true;
    c.reject?.(new Quit());
    setScreen(last);
    setExitCode(code);
  }, []);

  const quit = useCallback(() => {
    if (ctl.current.writing) return;
    void finish({ name: 'outcome', outcome: { tone: 'ok', title: 'quit: nothing was written to the cluster or to disk' } }, 0);
  }, [finish]);

  const interrupt = useCallback(() => {
    if (!ctl.current.writing) return quit();
    void finish({ name: 'outcome', outcome: { tone: 'warn', title: 'interrupted during apply: run `kube-harden rollback` to undo what landed' } }, 130);
  }, [finish, quit]);

  useEffect(() => {
    const c = ctl.current;
    const ui: Ui = {
      show: (s) => {
        if (!c.done) setScreen(s);
      },
      ask: <T>(make: (resolve: (v: T) => void) => Screen) =>
        new Promise<T>((resolve, reject) => {
          if (c.done) return reject(new Quit());
          c.reject = reject;
          setScreen(
            make((v) => {
              c.reject = undefined;
              resolve(v);
            }),
          );
        }),
      header: (h) => setHeader((old) => ({ ...old, ...h })),
      log: (e) => setLog((l) => [...l, e]),
      writing: (on) => {
        c.writing = on;
      },
      finish,
    };
    void runFlow(opts, core, ui);
    // The flow runs once per mount.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return { screen, header, log, exitCode, quit, interrupt };
}
