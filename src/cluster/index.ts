export * from './client.js';
export { listContexts, type ContextInfo } from './kubeconfig.js';
export { parseWarnings } from './warnings.js';
export type { ClusterErrorKind } from './errors.js';
