import { useEffect } from 'react';
import { Box, useApp, useInput } from 'ink';
import { ApplyProgress } from './ApplyProgress.js';
import { AreasOverview } from './AreasOverview.js';
import { Busy } from './Busy.js';
import { Header } from './components/Header.js';
import { ConfirmScreen } from './ConfirmScreen.js';
import { ContextPicker } from './ContextPicker.js';
import type { WizardCore } from './core.js';
import type { HardenOptions, Screen } from './flow.js';
import { useWizard } from './hooks/use-wizard.js';
import { Log } from './Log.js';
import { Outcome } from './Outcome.js';
import { PreviewScreen } from './PreviewScreen.js';
import { QuestionScreen } from './QuestionScreen.js';
import { RolloutFailedScreen } from './RolloutFailedScreen.js';
import { SaveProfileScreen } from './SaveProfileScreen.js';
import { SummaryScreen } from './SummaryScreen.js';

export interface AppProps {
  opts: HardenOptions;
  /** The seam to src/ (tests pass a fake). */
  core?: WizardCore;
  /** Called with the exit code instead of leaving the Ink app (tests). */
  onExit?: (code: number) => void;
}

export function App({ opts, core, onExit }: AppProps) {
  const w = useWizard(opts, core);
  const { exit } = useApp();

  useInput((input, key) => {
    if (key.ctrl && input === 'c') w.interrupt();
  });

  useEffect(() => {
    if (w.exitCode === undefined) return;
    // After the last screen committed; Ink's unmount flushes that final frame.
    if (onExit) onExit(w.exitCode);
    else exit(w.screen.name === 'summary' && w.screen.result.undo ? { code: w.exitCode, epilogue: `undo with: ${w.screen.result.undo}` } : w.exitCode);
    // Only the exit code's arrival matters; the screen is the last one by then.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [w.exitCode, exit, onExit]);

  return (
    <>
      <Log entries={w.log} />
      <Box flexDirection="column">
        <Header {...w.header} />
        <ScreenView screen={w.screen} quit={w.quit} />
      </Box>
    </>
  );
}

function ScreenView({ screen: s, quit }: { screen: Screen; quit: () => void }) {
  switch (s.name) {
    case 'busy':
      return <Busy text={s.text} lines={s.lines} onQuit={s.quittable ? quit : undefined} />;
    case 'pick-context':
      return <ContextPicker contexts={s.contexts} onPick={s.pick} onQuit={quit} />;
    case 'overview':
      return <AreasOverview areas={s.areas} defaults={s.defaults} onPick={s.pick} onQuit={quit} />;
    case 'question':
      return (
        <QuestionScreen
          key={s.question.id}
          question={s.question}
          area={s.area}
          index={s.index}
          total={s.total}
          initial={s.initial}
          fromProfile={s.fromProfile}
          onAnswer={s.answer}
          onBack={s.back}
          onQuit={quit}
        />
      );
    case 'preview':
      return (
        <PreviewScreen
          key={s.view.title}
          title={s.view.title}
          items={s.view.items}
          diffFor={s.view.diffFor}
          notes={s.view.notes}
          onContinue={s.next}
          onBack={s.back}
          onQuit={quit}
        />
      );
    case 'confirm':
      return (
        <ConfirmScreen
          mode={s.mode}
          count={s.count}
          context={s.context}
          reasons={s.reasons}
          onConfirm={() => s.answer(true)}
          onCancel={() => s.answer(false)}
          onOut={(out) => s.answer({ out })}
        />
      );
    case 'rollout-failed':
      return <RolloutFailedScreen states={s.states} onChoose={s.choose} />;
    case 'save-profile':
      return <SaveProfileScreen error={s.error} onSave={s.save} />;
    case 'apply':
      return <ApplyProgress {...s.progress} />;
    case 'summary':
      return <SummaryScreen result={s.result} profile={s.profile} />;
    case 'outcome':
      return <Outcome {...s.outcome} />;
  }
}
