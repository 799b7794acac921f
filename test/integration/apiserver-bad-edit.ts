// A hand-made change of the API server's manifest the apiserver area would never plan (an unknown flag,
// a flag naming a missing file), for the tests of the health gate. Not a test file itself.
import type { FileChange } from '../../src/engine/change.js';
import { flagsOf } from '../../src/engine/gates.js';

/** The manifest with one more API server argument after the command name, its gate expecting it in force. */
export function extraArgChange(path: string, text: string, arg: string, mirrorPod: string, timeoutMs: number): FileChange {
  const m = /^( *)- kube-apiserver\n/m.exec(text);
  if (!m) throw new Error('no kube-apiserver command line in the manifest');
  const at = m.index + m[0].length;
  const after = `${text.slice(0, at)}${m[1]}- ${arg}\n${text.slice(at)}`;
  const [name, value] = Object.entries(flagsOf([arg]))[0];
  return {
    id: `file:${path}`,
    kind: 'file',
    path,
    before: text,
    after,
    gate: { type: 'apiserver', flags: { [name]: value }, mirrorPod, timeoutMs },
    areas: ['apiserver'],
    findingIds: [],
    reasons: [{ area: 'apiserver', text: `test: add ${arg}` }],
    risk: 'high',
    riskNotes: [],
    phase: 'control-plane',
  };
}
