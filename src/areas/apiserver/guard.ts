/**
 * The lock-out check of the "enable RBAC" step: removing AlwaysAllow from --authorization-mode takes
 * away every permission RBAC does not grant. Before any write, evaluate RBAC in the tool (the rbac area's
 * evaluator) for the running identity: if it would lose cluster-admin power, or even the right to read
 * the mirror pod the health gate watches, ask for the typed confirmation (or the flag when not
 * interactive). Members of system:masters are allowed before any authorizer and lose nothing.
 */
import { builtinByKind } from '../../cluster/client.js';
import type { FileChange } from '../../engine/change.js';
import { authorize, buildIndex, DEFAULT_SUPERUSER_GROUPS, type RbacObject, type RequestAttributes } from '../rbac/evaluate.js';
import type { GuardContext, GuardVerdict } from '../types.js';
import { authorizationModes } from './flags.js';
import type { ApiserverFacts } from './inspect.js';

const CHECKS: Array<[string, RequestAttributes]> = [
  ['read the API server mirror pod (the health gate)', { verb: 'get', apiGroup: '', resource: 'pods', namespace: 'kube-system' }],
  ['everything (cluster-admin)', { verb: '*', apiGroup: '*', resource: '*' }],
  ['change RBAC roles and bindings', { verb: 'update', apiGroup: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' }],
];

export async function guardApiserver(ctx: GuardContext): Promise<GuardVerdict[]> {
  const facts = ctx.inspection.facts as ApiserverFacts;
  const change = ctx.changes.find((c): c is FileChange => c.kind === 'file' && c.areas.includes('apiserver') && !!c.gate?.flags['authorization-mode']);
  if (!change || !facts.manifest) return [];
  const before = authorizationModes(facts.manifest.info.flags) ?? [];
  if (!before.includes('AlwaysAllow')) return []; // adding Node or RBAC only adds grants
  const { username, groups } = ctx.identity;
  const superuser = groups.find((g) => DEFAULT_SUPERUSER_GROUPS.includes(g));
  if (superuser) return [];
  const list = async (kind: string, namespace?: string) => (await ctx.cluster.list(builtinByKind(kind), { namespace })) as unknown as RbacObject[];
  let lost: string[];
  try {
    const [clusterRoles, clusterRoleBindings, roles, roleBindings] = await Promise.all([
      list('ClusterRole'),
      list('ClusterRoleBinding'),
      list('Role', 'kube-system'),
      list('RoleBinding', 'kube-system'),
    ]);
    const index = buildIndex({ clusterRoles, clusterRoleBindings, roles, roleBindings });
    lost = CHECKS.filter(([, attrs]) => !authorize(index, { username, groups }, attrs).allowed).map(([what]) => what);
  } catch (e) {
    lost = [`(RBAC could not be read to check: ${(e as Error).message})`];
  }
  if (!lost.length) return [];
  return [
    {
      area: 'apiserver',
      level: 'confirm',
      message: `removing AlwaysAllow from --authorization-mode takes from ${username} what RBAC does not grant it`,
      details: [
        ...lost.map((w) => `${username} would no longer be allowed to ${w}`),
        'If it cannot read the mirror pod, the health gate fails and the old manifest is put back after its time-out.',
      ],
      flag: '--allow-lockout',
    },
  ];
}
