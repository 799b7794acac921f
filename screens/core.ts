/**
 * What the wizard needs from src/, behind one seam. The default loads the core lazily: the first frame
 * must not wait for @kubernetes/client-node (session, cluster, kubeconfig) or conf (profiles).
 */
import type { ContextInfo, KubeconfigOptions } from '../src/cluster/kubeconfig.js';
import type { Change, DryRunResult } from '../src/engine/change.js';
import type { DiffLine } from '../src/engine/diff.js';
import type { PipelineOptions, PipelineResult, Port } from '../src/pipeline.js';
import type { Profile } from '../src/profiles/profile.js';

export interface WizardCore {
  listContexts(opts: KubeconfigOptions): Promise<ContextInfo[]>;
  runPipeline(opts: PipelineOptions, port: Port): Promise<PipelineResult>;
  loadProfile(nameOrFile: string): Promise<Profile>;
  saveProfile(name: string, profile: Profile): Promise<void>;
  loadDiff(): Promise<(change: Change, dry?: DryRunResult) => DiffLine[]>;
}

export const defaultCore: WizardCore = {
  async listContexts(opts) {
    const { listContexts } = await import('../src/cluster/kubeconfig.js');
    return listContexts(opts);
  },
  async runPipeline(opts, port) {
    const [{ runPipeline }, { Session }] = await Promise.all([import('../src/pipeline.js'), import('../src/session.js')]);
    return runPipeline(opts, port, (o) => Session.open(o));
  },
  async loadProfile(nameOrFile) {
    const { ProfileStore } = await import('../src/profiles/profile.js');
    return new ProfileStore().get(nameOrFile);
  },
  async saveProfile(name, profile) {
    const { ProfileStore } = await import('../src/profiles/profile.js');
    new ProfileStore().save(name, profile);
  },
  async loadDiff() {
    const { diffOf } = await import('../src/engine/kinds/index.js');
    return diffOf;
  },
};
