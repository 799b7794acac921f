/**
 * The tls area's plan, pure: cert-manager's Helm release (when absent and asked for), the issuer (a
 * self-signed CA bootstrap or an ACME ClusterIssuer), TLS for the chosen Ingresses through the
 * ingress-shim's annotation, and Certificates for chosen Services. Every object it creates carries
 * app.kubernetes.io/managed-by: kube-harden; what cert-manager makes because of it is declared as
 * derived, so rollback removes that too.
 */
import type { KubeObject } from '../../cluster/types.js';
import type { DerivedRef } from '../../engine/change.js';
import type { CreateEdit, Edit, MutateEdit, ReleaseEdit } from '../../engine/compose.js';
import { helmCommand } from '../../engine/kinds/release.js';
import type { Answers, Inspection } from '../types.js';
import { CERT_MANAGER, certManagerServed, CM_API, installable, type IngressFact, type TlsFacts } from './facts.js';
import { ACME, BOOTSTRAP, chartIsLocalOrUrl, isAcme } from './questions.js';

const LABELS = { 'app.kubernetes.io/managed-by': 'kube-harden' };
const CLUSTER_ISSUER_ANNOTATION = 'cert-manager.io/cluster-issuer';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API objects are untyped JSON here
type Obj = Record<string, any>;

const issuerRef = (name: string) => ({ name, kind: 'ClusterIssuer', group: 'cert-manager.io' });

/** The Secret cert-manager writes for a Certificate: removed at rollback while it still says so. */
const secretOf = (namespace: string, secretName: string, certificate: string): DerivedRef => ({
  ref: { apiVersion: 'v1', kind: 'Secret', namespace, name: secretName },
  annotations: { 'cert-manager.io/certificate-name': certificate },
});

export const UNDO_NOTE =
  'helm uninstall removed cert-manager, but the chart keeps its six CRDs (helm.sh/resource-policy: keep) and with them every cert-manager object; the cert-manager namespace stays too. Remove them with: kubectl delete crd -l app.kubernetes.io/instance=cert-manager; kubectl delete namespace cert-manager';

function releaseEdit(ins: Inspection<TlsFacts>, answers: Answers): ReleaseEdit {
  const f = ins.facts;
  const chart = String(answers['tls.chart'] ?? CERT_MANAGER.chart).trim();
  const version = String(answers['tls.chartVersion'] ?? CERT_MANAGER.version).trim();
  const repo = chartIsLocalOrUrl(chart) ? undefined : String(answers['tls.chartRepo'] ?? CERT_MANAGER.repo).trim();
  // A release of that name already there (a failed install): upgraded from its revision, rolled back to it.
  const previous = f.certManager.release;
  const release: ReleaseEdit['release'] = {
    action: previous ? 'upgrade' : 'install',
    release: CERT_MANAGER.release,
    namespace: CERT_MANAGER.namespace,
    chart,
    repo,
    version,
    values: { crds: { enabled: true } },
    createNamespace: true,
    previousRevision: previous?.revision,
    undoNote: UNDO_NOTE,
  };
  // The command as the user would type it, in the reason: every view shows it whole.
  const command = helmCommand({
    ...release,
    id: '',
    kind: 'release',
    areas: [],
    findingIds: [],
    reasons: [],
    risk: 'medium',
    riskNotes: [],
    phase: 'prerequisites',
  });
  return {
    kind: 'release',
    area: 'tls',
    phase: 'prerequisites',
    findingIds: ins.findings
      .filter((x) => x.rule === 'certManagerMissing' || (x.rule === 'certManagerUnavailable' && x.ref.kind === 'cert-manager'))
      .map((x) => x.id),
    reason: `install cert-manager ${version} with its CRDs: ${command}`,
    risk: 'medium',
    riskNote:
      'adds six CRDs, three Deployments (controller, webhook, cainjector) and admission webhooks for cert-manager objects; rollback uninstalls it but keeps the CRDs',
    release,
  };
}

function create(object: KubeObject, reason: string, findingIds: string[], derived?: DerivedRef[], phase: CreateEdit['phase'] = 'create'): CreateEdit {
  return { kind: 'object', op: 'create', area: 'tls', object, reason, findingIds, risk: 'low', phase, ...(derived ? { derived } : {}) };
}

const clusterIssuer = (name: string, spec: Obj): KubeObject => ({ apiVersion: CM_API, kind: 'ClusterIssuer', metadata: { name, labels: { ...LABELS } }, spec });

/** The self-signed bootstrap: a self-signed ClusterIssuer signs a CA Certificate; a CA ClusterIssuer issues from its Secret. */
function bootstrapEdits(f: TlsFacts, findingIds: string[]): Edit[] {
  const exists = (name: string) => f.issuers.some((i) => i.kind === 'ClusterIssuer' && i.name === name);
  const ns = f.certManager.clusterResourceNamespace;
  const out: Edit[] = [];
  if (!exists(BOOTSTRAP.selfSigned))
    out.push(create(clusterIssuer(BOOTSTRAP.selfSigned, { selfSigned: {} }), 'self-signed ClusterIssuer that signs the CA', []));
  if (!f.certificates.some((c) => c.namespace === ns && c.name === BOOTSTRAP.ca)) {
    out.push(
      create(
        {
          apiVersion: CM_API,
          kind: 'Certificate',
          metadata: { name: BOOTSTRAP.ca, namespace: ns, labels: { ...LABELS } },
          spec: {
            isCA: true,
            commonName: 'kube-harden CA',
            secretName: BOOTSTRAP.caSecret,
            duration: '43800h',
            renewBefore: '720h',
            privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Never' },
            issuerRef: issuerRef(BOOTSTRAP.selfSigned),
          },
        },
        `CA certificate (5 years, ECDSA P-256) in Secret ${ns}/${BOOTSTRAP.caSecret}`,
        [],
        [secretOf(ns, BOOTSTRAP.caSecret, BOOTSTRAP.ca)],
      ),
    );
  }
  if (!exists(BOOTSTRAP.ca))
    out.push(create(clusterIssuer(BOOTSTRAP.ca, { ca: { secretName: BOOTSTRAP.caSecret } }), 'CA ClusterIssuer that issues from that CA', findingIds));
  return out;
}

function acmeEdit(f: TlsFacts, choice: keyof typeof ACME, answers: Answers, findingIds: string[]): Edit[] {
  if (f.issuers.some((i) => i.kind === 'ClusterIssuer' && i.name === choice)) return [];
  const className = String(answers['tls.ingressClass'] ?? '').trim();
  const issuer = clusterIssuer(choice, {
    acme: {
      server: ACME[choice],
      email: String(answers['tls.acmeEmail'] ?? '').trim(),
      privateKeySecretRef: { name: `${choice}-account-key` },
      solvers: [{ http01: { ingress: className ? { ingressClassName: className } : {} } }],
    },
  });
  const edit = create(
    issuer,
    `ACME ClusterIssuer (${choice.replace('letsencrypt-', "Let's Encrypt ")}, HTTP-01 through ingress class ${className || '(default)'})`,
    findingIds,
  );
  edit.riskNote = "Let's Encrypt must reach http://HOST/.well-known/acme-challenge/ from the internet for every host; its rate limits apply";
  return [edit];
}

/** The Ingress with tls entries for its new hosts, replaced Secret names, and the issuer annotation. */
function ingressMutation(add: Array<{ host: string; secretName: string }>, rename: Record<string, string>, issuer: string | undefined) {
  return (o: KubeObject): KubeObject => {
    const spec = { ...((o.spec ?? {}) as Obj) };
    const tls = ((spec.tls ?? []) as Obj[]).map((t) => (t.secretName && rename[t.secretName] ? { ...t, secretName: rename[t.secretName] } : t));
    const covered = new Set(tls.flatMap((t) => (t.hosts ?? []) as string[]));
    for (const a of add) if (!covered.has(a.host)) tls.push({ hosts: [a.host], secretName: a.secretName });
    spec.tls = tls;
    const annotations = { ...(o.metadata.annotations ?? {}) };
    if (issuer && !annotations[CLUSTER_ISSUER_ANNOTATION] && !annotations['cert-manager.io/issuer']) annotations[CLUSTER_ISSUER_ANNOTATION] = issuer;
    return { ...o, metadata: { ...o.metadata, annotations }, spec };
  };
}

function ingressEdit(
  ins: Inspection<TlsFacts>,
  i: IngressFact,
  newHosts: boolean,
  replace: string[],
  issuer: string,
  privateCa: boolean,
): MutateEdit | undefined {
  const add = newHosts ? i.uncovered.map((host) => ({ host, secretName: i.proposed[host] })) : [];
  const rename: Record<string, string> = {};
  const reissued: string[] = [];
  for (const name of replace) {
    const s = i.secrets.find((x) => x.secretName === name);
    if (!s) continue;
    if (s.state === 'missing') reissued.push(name);
    else if (i.proposed[`secret:${name}`]) rename[name] = i.proposed[`secret:${name}`];
  }
  if (!add.length && !Object.keys(rename).length && !reissued.length) return undefined;
  // The issuer that will really act: an annotation the Ingress already has wins over ours.
  const acting = i.issuer ?? `ClusterIssuer/${issuer}`;
  const secrets = [...add.map((a) => a.secretName), ...Object.values(rename), ...reissued];
  const derived: DerivedRef[] = [
    // The ingress-shim names each Certificate after its Secret and makes the Ingress its controller.
    ...secrets.map((name) => ({ ref: { apiVersion: CM_API, kind: 'Certificate', namespace: i.namespace, name }, controlledByTarget: true })),
    ...secrets.map((name) => secretOf(i.namespace, name, name)),
  ];
  const parts = [
    ...(add.length ? [`TLS for ${add.map((a) => a.host).join(', ')}`] : []),
    ...Object.entries(rename).map(([from, to]) => `certificate ${from} replaced by ${to}`),
    ...reissued.map((n) => `missing Secret ${n} issued`),
  ];
  const ids = ins.findings
    .filter(
      (x) =>
        x.ref.kind === 'Ingress' &&
        x.ref.namespace === i.namespace &&
        x.ref.name === i.name &&
        ((newHosts && x.rule === 'ingressWithoutTls') || (x.rule !== 'ingressWithoutTls' && replace.some((r) => x.id.endsWith(`/${r}`)))),
    )
    .map((x) => x.id);
  return {
    kind: 'object',
    op: 'mutate',
    area: 'tls',
    base: i.object,
    mutate: ingressMutation(add, rename, issuer),
    findingIds: ids,
    reason: `${parts.join('; ')} (cert-manager, ${acting.replace('/', ' ')})`,
    risk: 'medium',
    riskNote: `${privateCa && !i.issuer ? 'clients that do not trust the kube-harden CA get certificate errors, and most ingress controllers redirect http:// to https:// once a host has TLS; ' : ''}until cert-manager has issued ${secrets.join(', ')} the ingress controller serves its default certificate for these hosts; rollback removes the tls entries and annotation, the Certificates the ingress-shim made and their Secrets${Object.keys(rename).length ? '; the old Secrets are kept' : ''}`,
    phase: 'update',
    derived,
  };
}

export function planTls(ins: Inspection<TlsFacts>, answers: Answers): Edit[] {
  const f = ins.facts;
  const installing = installable(f) && answers['tls.install'] === 'helm';
  if (!installing && !certManagerServed(f)) return [];
  const edits: Edit[] = [];
  if (installing) edits.push(releaseEdit(ins, answers));

  const choice = answers['tls.issuer'];
  if (typeof choice !== 'string' || choice === 'none') return edits;
  const noIssuer = ins.findings.filter((x) => x.rule === 'noIssuer').map((x) => x.id);
  let issuer: string;
  if (choice.startsWith('clusterissuer/')) issuer = choice.slice('clusterissuer/'.length);
  else if (choice === 'selfsigned-ca') {
    const ns = f.certManager.clusterResourceNamespace;
    // The CA's Secret lives in the cluster resource namespace: created unless there or the release brings it.
    if (f.certManager.namespaceExists === false && !(installing && ns === CERT_MANAGER.namespace)) {
      edits.push(
        create(
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { ...LABELS } } },
          'namespace for the CA Secret',
          [],
          undefined,
          'prerequisites',
        ),
      );
    }
    edits.push(...bootstrapEdits(f, noIssuer));
    issuer = BOOTSTRAP.ca;
  } else if (isAcme(choice)) {
    if (answers['tls.acmeSolver'] === 'dns01') return edits; // a manual step (the question says how)
    edits.push(...acmeEdit(f, choice, answers, noIssuer));
    issuer = choice;
  } else return edits;

  const type = f.issuers.find((x) => x.kind === 'ClusterIssuer' && x.name === issuer)?.type;
  const privateCa = choice === 'selfsigned-ca' || type === 'ca' || type === 'selfSigned';
  const chosen = new Set((answers['tls.ingresses'] as string[] | undefined) ?? []);
  const replace = new Map<string, string[]>();
  for (const r of (answers['tls.replace'] as string[] | undefined) ?? []) {
    const [ns, name, ...rest] = r.split('/');
    const key = `${ns}/${name}`;
    replace.set(key, [...(replace.get(key) ?? []), rest.join('/')]);
  }
  for (const i of f.ingresses) {
    const key = `${i.namespace}/${i.name}`;
    const e = ingressEdit(ins, i, chosen.has(key) && i.uncovered.length > 0, replace.get(key) ?? [], issuer, privateCa);
    if (e) edits.push(e);
  }

  if (!isAcme(choice)) {
    for (const key of (answers['tls.services'] as string[] | undefined) ?? []) {
      const s = f.services.find((x) => `${x.namespace}/${x.name}` === key);
      if (!s) continue;
      const names = [s.name, `${s.name}.${s.namespace}`, `${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}.svc.cluster.local`];
      edits.push(
        create(
          {
            apiVersion: CM_API,
            kind: 'Certificate',
            metadata: { name: s.secretName, namespace: s.namespace, labels: { ...LABELS } },
            spec: { secretName: s.secretName, dnsNames: names, issuerRef: issuerRef(issuer), privateKey: { algorithm: 'ECDSA', size: 256 } },
          },
          `certificate for Service ${s.name} (${names[2]}) in Secret ${s.secretName}`,
          [],
          [secretOf(s.namespace, s.secretName, s.secretName)],
        ),
      );
    }
  }
  return edits;
}
