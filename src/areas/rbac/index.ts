import type { Area } from '../types.js';
import { RBAC_RULES } from './checks.js';
import { guardRbac } from './guard.js';
import { inspectRbac, RBAC_READS, type RbacFacts } from './inspect.js';
import { planRbac } from './plan.js';
import { rbacQuestions } from './questions.js';
import { reviewRbac } from './review.js';

export const rbacArea: Area<RbacFacts> = {
  id: 'rbac',
  title: 'RBAC: who may do what',
  summary:
    'Whether RBAC is in force (probed with SubjectAccessReviews), risky grants with their path (binding → role → rule) and subjects: cluster-admin or * on * for everyone, wildcard roles, escalate/bind/impersonate, Secrets cluster-wide, exec, kube-system workloads, nodes/proxy, token creation; default service accounts that mount their token. Bindings are removed or narrowed (replacement first), read-only access is granted from your answers, and a lock-out guard checks the plan against your own access before any write.',
  reads: RBAC_READS,
  rules: RBAC_RULES,
  inspect: inspectRbac,
  questions: rbacQuestions,
  answerDocs: {
    'rbac.bindings':
      'What should happen to each risky binding: keep | remove | narrow to view, edit or kube-harden-read-only (keys name bindings of one cluster)',
    'rbac.includeSystem': 'Also offer bindings the system manages for change? (true/false)',
    'rbac.systemBindings': 'What should happen to each system-managed binding (with includeSystem)',
    'rbac.readOnlyUsers': 'Which users may view and list everything in chosen namespaces, but not create or delete',
    'rbac.readOnlyGroups': 'Which groups may view and list everything in chosen namespaces, but not create or delete',
    'rbac.readOnlyNamespaces': 'In which namespaces should they have read-only access',
    'rbac.readOnlySecrets': 'May the read-only role read Secrets too? (true/false)',
    'rbac.automount': 'In which namespaces should the default service account stop mounting its token',
  },
  plan: planRbac,
  guard: guardRbac,
  review: reviewRbac,
};
