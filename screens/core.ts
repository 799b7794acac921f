/**
 * What the wizard needs from src/, behind one seam. The default loads the core lazily: the first frame
 * must not wait for @kubernetes/client-node (session, cluster, kubeconfig) or conf (profiles).
 */
import type { ContextInfo, KubeconfigOptions } from '../src/cluster/kubeconfig.js';
import type { Change } from '../src/engine/change.js';
import type { DiffLine } from '../src/engine/diff.js';
import type { Profile } from '../src/profiles/profile.js';
import type { Session, SessionOptions } from '../src/session.js';

/** The part of a Session the wizard drives (a test passes a fake). */
export type SessionLike = Pick<
  Session,
  'contextName' | 'version' | 'identity' | 'areas' | 'readAccess' | 'inspect' | 'questions' | 'resolveAnswers' | 'plan' | 'dryRun' | 'writeAccess' | 'apply' | 'verify' | 'close'
>;

export interface WizardCore {
  listContexts(opts: KubeconfigOptions): Promise<ContextInfo[]>;
  openSession(opts: SessionOptions): Promise<SessionLike>;
  loadProfile(nameOrFile: string): Promise<Profile>;
  saveProfile(name: string, profile: Profile): Promise<void>;
  loadDiff(): Promise<(change: Change) => DiffLine[]>;
}

export const defaultCore: WizardCore = {
  async listContexts(opts) {
    const { listContexts } = await import('../src/cluster/kubeconfig.js');
    return listContexts(opts);
  },
  async openSession(opts) {
    const { Session } = await import('../src/session.js');
    return Session.open(opts);
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
    const { diffChange } = await import('../src/engine/diff.js');
    return diffChange;
  },
};
