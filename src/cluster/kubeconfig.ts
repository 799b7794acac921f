import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { ClusterError } from './errors.js';

export interface KubeconfigOptions {
  kubeconfig?: string;
  context?: string;
}

export interface ContextInfo {
  name: string;
  cluster: string;
  user: string;
  namespace?: string;
  server?: string;
  current: boolean;
}

function mergeFiles(kc: KubeConfig, files: string[]): void {
  const parts = files.map((f) => {
    const one = new KubeConfig();
    one.loadFromFile(f);
    return one;
  });
  const firstByName = <T extends { name: string }>(lists: T[][]): T[] => {
    const seen = new Map<string, T>();
    for (const list of lists) for (const x of list) if (!seen.has(x.name)) seen.set(x.name, x);
    return [...seen.values()];
  };
  kc.loadFromOptions({
    clusters: firstByName(parts.map((p) => p.getClusters())),
    users: firstByName(parts.map((p) => p.getUsers())),
    contexts: firstByName(parts.map((p) => p.getContexts())),
    currentContext: parts.map((p) => p.getCurrentContext()).find((c) => !!c) ?? '',
  });
}

/** Load a kubeconfig the way kubectl does: --kubeconfig, else KUBECONFIG (merged), else ~/.kube/config. */
export function loadKubeConfig(opts: KubeconfigOptions = {}): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (opts.kubeconfig) {
      if (!existsSync(opts.kubeconfig)) throw new ClusterError('Config', `kubeconfig not found: ${opts.kubeconfig}`);
      kc.loadFromFile(opts.kubeconfig);
    } else {
      const env = process.env.KUBECONFIG;
      if (env) {
        // Like kubectl: files that do not exist are skipped, and for every name the first file that
        // defines it wins (the current context too).
        const present = env.split(':').filter((f) => f && existsSync(f));
        if (present.length === 0) throw new ClusterError('Config', `kubeconfig not found: KUBECONFIG=${env}`);
        mergeFiles(kc, present);
      } else {
        const home = process.env.HOME ?? '';
        if (!existsSync(`${home}/.kube/config`) && !process.env.KUBERNETES_SERVICE_HOST) {
          throw new ClusterError('Config', 'no kubeconfig: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config');
        }
        kc.loadFromDefault();
      }
    }
  } catch (e) {
    if (e instanceof ClusterError) throw e;
    throw new ClusterError('Config', `cannot read kubeconfig: ${(e as Error).message.split('\n')[0]}`);
  }
  if (opts.context) {
    if (!kc.getContexts().some((c) => c.name === opts.context)) {
      const known =
        kc
          .getContexts()
          .map((c) => c.name)
          .join(', ') || 'none';
      throw new ClusterError('Config', `unknown context "${opts.context}" (contexts: ${known})`);
    }
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentContext() || !kc.getContextObject(kc.getCurrentContext())) {
    throw new ClusterError('Config', 'the kubeconfig has no current context: pass --context');
  }
  if (!kc.getCurrentCluster()) throw new ClusterError('Config', `context "${kc.getCurrentContext()}" names no cluster`);
  return kc;
}

export function listContexts(opts: KubeconfigOptions = {}): ContextInfo[] {
  const kc = loadKubeConfig({ kubeconfig: opts.kubeconfig });
  const current = opts.context ?? kc.getCurrentContext();
  return kc.getContexts().map((c) => ({
    name: c.name,
    cluster: c.cluster,
    user: c.user,
    namespace: c.namespace,
    server: kc.getCluster(c.cluster)?.server,
    current: c.name === current,
  }));
}
