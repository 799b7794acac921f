import { Box, Text, useInput } from 'ink';
import type { AnswerValue, Question } from '../src/areas/types.js';
import { KeyHelp, QUIT_HINT, type KeyHint } from './components/KeyHelp.js';
import { MultiSelect } from './components/MultiSelect.js';
import { Select } from './components/Select.js';
import { TextInput } from './components/TextInput.js';
import { YesNo } from './components/YesNo.js';
import { capLines } from './format.js';

export interface QuestionScreenProps {
  question: Question;
  /** 0-based position, and how many questions there are in all. */
  index: number;
  total: number;
  /** The preselected answer: the profile's, else the question's default. */
  initial: AnswerValue;
  onAnswer: (value: AnswerValue) => void;
  onQuit: () => void;
}

const KEYS: Record<Question['kind'], KeyHint[]> = {
  select: [['↑/↓', 'move'], ['enter', 'choose'], QUIT_HINT],
  multiselect: [['↑/↓', 'move'], ['space', 'toggle'], ['a', 'all/none'], ['enter', 'confirm'], QUIT_HINT],
  text: [['enter', 'confirm'], ['backspace', 'delete'], ['esc', 'quit (nothing written)']],
  confirm: [['y/n', 'answer'], ['enter', 'default'], QUIT_HINT],
};

/** Only select needs its own quit key: the other inputs handle q/Esc themselves (text: Esc only). */
function QuitKeys({ onQuit }: { onQuit: () => void }) {
  useInput((input, key) => {
    if (input === 'q' || key.escape) onQuit();
  });
  return null;
}

export function QuestionScreen({ question: q, index, total, initial, onAnswer, onQuit }: QuestionScreenProps) {
  const details = capLines(q.details ?? [], 8);
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text dimColor>{`question ${index + 1} of ${total} · ${q.area}`}</Text>
      <Text bold>{q.title}</Text>
      {q.help ? (
        <Text dimColor wrap="wrap">
          {q.help}
        </Text>
      ) : null}
      {details.shown.length ? (
        <Box flexDirection="column" marginTop={1}>
          {details.shown.map((d, i) => (
            <Text key={i} color="yellow" wrap="wrap">{`  ${d}`}</Text>
          ))}
          {details.more ? <Text dimColor>{`  +${details.more} more`}</Text> : null}
        </Box>
      ) : null}
      <Box marginTop={1} flexDirection="column">
        <Answer key={q.id} q={q} initial={initial} onAnswer={onAnswer} onQuit={onQuit} />
      </Box>
      <KeyHelp keys={KEYS[q.kind]} />
    </Box>
  );
}

function Answer({ q, initial, onAnswer, onQuit }: { q: Question; initial: AnswerValue; onAnswer: (v: AnswerValue) => void; onQuit: () => void }) {
  switch (q.kind) {
    case 'select':
      return (
        <>
          <QuitKeys onQuit={onQuit} />
          <Select options={q.choices ?? []} initial={typeof initial === 'string' ? initial : undefined} onSelect={onAnswer} />
        </>
      );
    case 'multiselect':
      return <MultiSelect choices={q.choices ?? []} initial={Array.isArray(initial) ? initial : []} onSubmit={onAnswer} onQuit={onQuit} />;
    case 'confirm':
      return <YesNo initial={initial === true} onAnswer={onAnswer} onQuit={onQuit} />;
    case 'text':
      return <TextInput initial={typeof initial === 'string' ? initial : ''} validate={(v) => q.validate?.(v)} onSubmit={onAnswer} onCancel={onQuit} />;
  }
}
