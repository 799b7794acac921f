import type { Area } from '../types.js';
import type { TlsFacts } from './facts.js';
import { inspectTls, TLS_READS } from './inspect.js';
import { planTls } from './plan.js';
import { tlsQuestions } from './questions.js';
import { reviewTls } from './review.js';
import { RULES } from './rules.js';

export const tlsArea: Area<TlsFacts> = {
  id: 'tls',
  title: 'TLS certificates',
  summary:
    "Certificates issued and renewed by cert-manager instead of by hand: installs it with its Helm chart when it is missing, bootstraps a private CA or a Let's Encrypt ClusterIssuer, gives Ingresses TLS, and reports every Ingress certificate's issuer, expiry and key.",
  reads: TLS_READS,
  rules: RULES.map(({ id, severity, title, why, fix, references }) => ({ id, severity, title, why, fix, references })),
  inspect: inspectTls,
  questions: tlsQuestions,
  plan: planTls,
  review: reviewTls,
};
