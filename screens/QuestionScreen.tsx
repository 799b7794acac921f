import { Box, Text, useInput, useWindowSize } from 'ink';
import { validateAnswer, type AnswerValue, type Question } from '../src/areas/types.js';
import { KeyHelp, QUIT_HINT, type KeyHint } from './components/KeyHelp.js';
import { MultiSelect } from './components/MultiSelect.js';
import { PerItem } from './components/PerItem.js';
import { Select } from './components/Select.js';
import { TextInput } from './components/TextInput.js';
import { YesNo } from './components/YesNo.js';
import { capLines, wrappedRows } from './format.js';

export interface QuestionScreenProps {
  question: Question;
  /** The area's title. */
  area: string;
  /** 0-based position among the area's questions, and how many it has. */
  index: number;
  total: number;
  /** The preselected answer: an earlier answer, the profile's, else the question's default. */
  initial: AnswerValue;
  /** The initial value came from the profile. */
  fromProfile?: boolean;
  onAnswer: (value: AnswerValue) => void;
  onBack: () => void;
  onQuit: () => void;
}

const BACK: KeyHint = ['←', 'back'];
const KEYS: Record<Question['kind'], KeyHint[]> = {
  select: [['↑/↓', 'move'], ['enter', 'choose'], BACK, QUIT_HINT],
  multiselect: [['↑/↓', 'move'], ['space', 'toggle'], ['a', 'all/none'], ['enter', 'confirm'], BACK, QUIT_HINT],
  text: [['enter', 'confirm'], ['backspace', 'delete'], BACK, ['esc', 'quit (nothing written)']],
  number: [['enter', 'confirm'], ['backspace', 'delete'], BACK, ['esc', 'quit (nothing written)']],
  list: [['enter', 'confirm'], ['comma', 'separates values'], BACK, ['esc', 'quit (nothing written)']],
  confirm: [['y/n', 'answer'], ['enter', 'default'], BACK, QUIT_HINT],
  'per-item': [['↑/↓', 'move'], ['space/→', 'change'], ['enter', 'confirm'], BACK, QUIT_HINT],
};

/** Only select needs its own quit and back keys: the other inputs handle them themselves. */
function SelectKeys({ onQuit, onBack }: { onQuit: () => void; onBack: () => void }) {
  useInput((input, key) => {
    if (input === 'q' || key.escape) onQuit();
    else if (key.leftArrow) onBack();
  });
  return null;
}

export function QuestionScreen({ question: q, area, index, total, initial, fromProfile, onAnswer, onBack, onQuit }: QuestionScreenProps) {
  const { rows, columns } = useWindowSize();
  const width = Math.max(20, (columns || 80) - 1);
  const budget = Math.max(10, (rows || 24) - 4);
  // Rows: the title and help whole, then the choices (at least a few), then as many details as fit.
  const headRows = 1 + wrappedRows(q.title, width) + (q.help ? wrappedRows(q.help, width) : 0);
  const choiceRows = Math.min(6, (q.kind === 'per-item' ? q.items?.length : q.choices?.length) ?? 1) + 2;
  let room = budget - headRows - choiceRows - 3;
  const all = q.details ?? [];
  let shownCount = 0;
  for (const d of all) {
    const r = wrappedRows(`  ${d}`, width);
    if (r > room - (shownCount + 1 < all.length ? 1 : 0)) break;
    room -= r;
    shownCount++;
  }
  const details = capLines(all, Math.max(all.length ? 1 : 0, shownCount));
  const detailRows = details.shown.length ? 1 + details.shown.reduce((n, d) => n + wrappedRows(`  ${d}`, width), 0) + (details.more ? 1 : 0) : 0;
  // The choices get the rows the text above them leaves (a window around the cursor on long lists).
  const limit = Math.max(4, budget - headRows - detailRows - 3);
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text dimColor>
        {`question ${index + 1} of ${total} · ${area} · ${q.id}`}
        {fromProfile ? <Text color="cyan">{'  · answer from the profile'}</Text> : null}
      </Text>
      <Text bold wrap="wrap">
        {q.title}
      </Text>
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
        <Answer key={q.id} q={q} initial={initial} onAnswer={onAnswer} onBack={onBack} onQuit={onQuit} limit={limit} />
      </Box>
      <KeyHelp width={columns} keys={KEYS[q.kind]} />
    </Box>
  );
}

interface AnswerProps {
  limit: number;
  q: Question;
  initial: AnswerValue;
  onAnswer: (v: AnswerValue) => void;
  onBack: () => void;
  onQuit: () => void;
}

const listValue = (text: string): string[] =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

function Answer({ q, initial, onAnswer, onBack, onQuit, limit }: AnswerProps) {
  const check = (v: AnswerValue) => validateAnswer(q, v, {});
  switch (q.kind) {
    case 'select':
      return (
        <>
          <SelectKeys onQuit={onQuit} onBack={onBack} />
          <Select options={q.choices ?? []} initial={typeof initial === 'string' ? initial : undefined} onSelect={onAnswer} limit={limit} />
        </>
      );
    case 'multiselect':
      return (
        <MultiSelect
          choices={q.choices ?? []}
          initial={Array.isArray(initial) ? initial : []}
          onSubmit={onAnswer}
          onQuit={onQuit}
          onBack={onBack}
          limit={limit - 1}
        />
      );
    case 'confirm':
      return <YesNo initial={initial === true} onAnswer={onAnswer} onQuit={onQuit} onBack={onBack} />;
    case 'per-item':
      return (
        <PerItem
          items={q.items ?? []}
          choices={q.choices ?? []}
          initial={typeof initial === 'object' && !Array.isArray(initial) ? initial : {}}
          onSubmit={onAnswer}
          onQuit={onQuit}
          onBack={onBack}
          limit={limit}
        />
      );
    case 'number':
      return (
        <TextInput
          initial={initial === undefined || initial === '' ? '' : String(initial)}
          validate={(v) => (v.trim() === '' || !Number.isFinite(Number(v)) ? 'a number' : check(Number(v)))}
          onSubmit={(v) => onAnswer(Number(v))}
          onCancel={onQuit}
          onBack={onBack}
        />
      );
    case 'list':
      return (
        <Box flexDirection="column">
          {q.suggestions?.length ? <Text dimColor wrap="wrap">{`in use: ${q.suggestions.join(', ')}`}</Text> : null}
          <TextInput
            initial={Array.isArray(initial) ? initial.join(', ') : ''}
            placeholder="comma-separated values"
            validate={(v) => check(listValue(v))}
            onSubmit={(v) => onAnswer(listValue(v))}
            onCancel={onQuit}
            onBack={onBack}
          />
        </Box>
      );
    default:
      return (
        <TextInput initial={typeof initial === 'string' ? initial : ''} validate={(v) => check(v)} onSubmit={onAnswer} onCancel={onQuit} onBack={onBack} />
      );
  }
}
