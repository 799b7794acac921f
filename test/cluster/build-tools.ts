// npx tsx test/cluster/build-tools.ts
// Builds (or finds cached) the real parts the tests use beside the test bed, one at a time so a 2-core
// machine is not swamped: helm, the cert-manager chart (packaged with that helm), the cert-manager
// controllers binary, cyclonus (the NetworkPolicy oracle) and trivy (the image scanner, the slowest).
// CI runs this before `npm test` so the slow first builds show as their own step.
import { certManagerChart, ensureCertManagerControllers } from './cert-manager.js';
import { ensureTool } from './tools.js';

const steps: [string, () => Promise<string>][] = [
  ['helm', () => ensureTool('helm')],
  ['cert-manager chart', certManagerChart],
  ['cert-manager controllers', ensureCertManagerControllers],
  ['cyclonus', () => ensureTool('cyclonus')],
  ['trivy', () => ensureTool('trivy')],
];

for (const [name, build] of steps) {
  const started = Date.now();
  try {
    const out = await build();
    process.stderr.write(`build-tools: ${name}: ${out} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  } catch (e) {
    process.stderr.write(`build-tools: ${name} failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
