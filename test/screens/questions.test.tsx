// test/ is outside tsconfig's include, so tsx compiles this JSX with the classic runtime: React must be in scope.
import './force-color.js';
import test from 'node:test';
import assert from 'node:assert/strict';
import { render } from 'ink-testing-library';
import React from 'react';
import { QuestionScreen } from '../../screens/QuestionScreen.js';
import type { AnswerValue, Question } from '../../src/areas/types.js';
import { confirmQ, multiQ, selectQ, textQ } from './fixtures.js';
import { frameHas, KEY, strip, tick, waitFor } from './helpers.js';

function renderQ(question: Question, initial: AnswerValue = question.default) {
  const answers: AnswerValue[] = [];
  let quit = 0;
  let back = 0;
  const r = render(
    <QuestionScreen
      question={question}
      area="Pod security"
      index={1}
      total={4}
      initial={initial}
      onAnswer={(v) => answers.push(v)}
      onBack={() => back++}
      onQuit={() => quit++}
    />,
  );
  return { ...r, answers, quits: () => quit, backs: () => back, text: () => strip(r.lastFrame()) };
}

test('multiselect: default preselected, space toggles, arrows move, a selects all/none, Enter answers in choice order', async () => {
  const q = renderQ(multiQ);
  await frameHas(q.lastFrame, 'Gamma');
  assert.match(q.text(), /question 2 of 4 · Pod security · workloads\.fixes/);
  assert.match(q.text(), /Only the chosen fields are written\./);
  assert.match(q.text(), /❯ \[x\] Alpha {2}first fix/);
  assert.match(q.text(), /\[ \] Beta {2}second fix/);
  assert.match(q.text(), /space toggle/);
  await tick();
  q.stdin.write(' '); // Alpha off
  await frameHas(q.lastFrame, '0 of 3 selected');
  q.stdin.write(KEY.down);
  await frameHas(q.lastFrame, '❯ [ ] Beta');
  q.stdin.write(KEY.down);
  await frameHas(q.lastFrame, '❯ [ ] Gamma');
  q.stdin.write(' '); // Gamma on
  await frameHas(q.lastFrame, '❯ [x] Gamma');
  q.stdin.write(KEY.up);
  await frameHas(q.lastFrame, '❯ [ ] Beta');
  q.stdin.write(' '); // Beta on
  await frameHas(q.lastFrame, '2 of 3 selected');
  q.stdin.write(KEY.enter);
  await waitFor(() => q.answers.length === 1);
  assert.deepEqual(q.answers[0], ['b', 'c']);
  q.stdin.write('a'); // all
  await frameHas(q.lastFrame, '3 of 3 selected');
  q.stdin.write('a'); // none
  await frameHas(q.lastFrame, '0 of 3 selected');
  q.stdin.write(KEY.enter);
  await waitFor(() => q.answers.length === 2);
  assert.deepEqual(q.answers[1], []);
  q.stdin.write('q');
  await waitFor(() => q.quits() === 1);
  q.unmount();
});

test('text: typing, Backspace, a validation error does not advance, a good value does', async () => {
  const q = renderQ(textQ);
  await frameHas(q.lastFrame, 'runAsUser?');
  await tick();
  q.stdin.write('0');
  await frameHas(q.lastFrame, '> 0');
  q.stdin.write(KEY.enter);
  await frameHas(q.lastFrame, '✗ a UID is a positive number (not 0)');
  assert.equal(q.answers.length, 0);
  q.stdin.write(KEY.backspace);
  await waitFor(() => !q.text().includes('a UID is'), q.text);
  q.stdin.write('6');
  q.stdin.write('5');
  q.stdin.write('5');
  q.stdin.write('3');
  q.stdin.write('2');
  q.stdin.write('x');
  await frameHas(q.lastFrame, '> 65532x');
  q.stdin.write(KEY.backspace);
  await frameHas(q.lastFrame, '> 65532 ');
  q.stdin.write('q'); // a character here, not quit
  await frameHas(q.lastFrame, '> 65532q');
  assert.equal(q.quits(), 0);
  q.stdin.write(KEY.backspace);
  await frameHas(q.lastFrame, '> 65532 ');
  q.stdin.write(KEY.enter);
  await waitFor(() => q.answers.length === 1);
  assert.equal(q.answers[0], '65532');
  q.unmount();
});

test('select: the default is preselected, details are capped with +N more, arrows and Enter choose', async () => {
  const q = renderQ(selectQ);
  await frameHas(q.lastFrame, 'restricted');
  const t = q.text();
  // As many warnings as the terminal has room for, then how many more: never all 12 on one screen.
  const shown = (t.match(/^ {2}warning \d+$/gm) ?? []).length;
  assert.ok(shown >= 2 && shown < 12, `${shown} warnings shown`);
  assert.match(t, new RegExp(`warning ${shown}\\n {2}\\+${12 - shown} more`));
  assert.match(t, /❯ baseline/);
  assert.match(t, /auto \(recommended\) {2}per namespace/);
  await tick();
  q.stdin.write(KEY.down);
  await frameHas(q.lastFrame, '❯ restricted');
  q.stdin.write(KEY.enter);
  await waitFor(() => q.answers.length === 1);
  assert.equal(q.answers[0], 'restricted');
  q.unmount();
});

test('select: the initial answer from a profile wins over the default', async () => {
  const q = renderQ(selectQ, 'auto');
  await frameHas(q.lastFrame, '❯ auto');
  await tick();
  q.stdin.write(KEY.enter);
  await waitFor(() => q.answers.length === 1);
  assert.equal(q.answers[0], 'auto');
  q.unmount();
});

test('confirm: y / n, Enter takes the default', async () => {
  const q = renderQ(confirmQ);
  await frameHas(q.lastFrame, '(Y/n)');
  await tick();
  q.stdin.write(KEY.enter);
  q.stdin.write('n');
  await waitFor(() => q.answers.length === 2);
  assert.deepEqual(q.answers, [true, false]);
  q.unmount();
});
