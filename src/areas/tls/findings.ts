/** The one evaluator: the tls area's rules (rules.ts) over its facts. */
import type { ObjectRef } from '../../cluster/types.js';
import { refOf } from '../../cluster/types.js';
import type { Finding } from '../types.js';
import { weakKey } from './certs.js';
import { certManagerServed, HELM_INSTALL_HINT, installable, staticManifestUrl, CERT_MANAGER, type TlsFacts } from './facts.js';
import { EXPIRY_DAYS, RULE, type TlsRuleId } from './rules.js';

const DAY = 86_400_000;

/** Whether this session can bring certificates: cert-manager is there, or helm can install it. */
export const canIssue = (f: TlsFacts) => certManagerServed(f) || (installable(f) && !!f.helm);

function whyNot(f: TlsFacts): string | undefined {
  if (canIssue(f)) return undefined;
  if (f.certManager.state === 'absent')
    return `cert-manager is not installed and helm is not on PATH: ${HELM_INSTALL_HINT}, or apply the static manifest yourself (kubectl apply -f ${staticManifestUrl(CERT_MANAGER.version)}), then run again`;
  return 'whether cert-manager is installed is not known here (discovery of cert-manager.io was refused)';
}

export function findingsOf(f: TlsFacts, now: Date): Finding[] {
  const out: Finding[] = [];
  const add = (rule: TlsRuleId, ref: ObjectRef, message: string, fixable: boolean, manual?: string, detail?: string) =>
    out.push({
      id: `tls/${rule}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}${detail ? `/${detail}` : ''}`,
      area: 'tls',
      rule,
      severity: RULE[rule].severity,
      ref,
      message,
      fixable,
      manual: fixable ? undefined : (manual ?? RULE[rule].fix),
    });
  const blocked = whyNot(f);
  const cm = f.certManager;

  if (cm.state === 'absent') {
    add(
      'certManagerMissing',
      { apiVersion: '', kind: 'cert-manager', name: CERT_MANAGER.release, namespace: CERT_MANAGER.namespace },
      `cert-manager is not installed (the ${'cert-manager.io'} API is not served)`,
      !!f.helm,
      blocked,
    );
  }
  if (cm.state === 'crds-only') {
    add(
      'certManagerUnavailable',
      { apiVersion: '', kind: 'cert-manager', name: CERT_MANAGER.release, namespace: CERT_MANAGER.namespace },
      cm.crdsFromRelease
        ? "cert-manager's CRDs are installed (kept by a helm uninstall) but its controller is not: nothing issues or renews certificates"
        : "cert-manager's CRDs are installed but no controller Deployment was found in the cluster: unless it runs elsewhere, nothing issues or renews certificates",
      !!cm.crdsFromRelease && !!f.helm,
      cm.crdsFromRelease
        ? `install the chart again (it adopts the CRDs); helm is not on PATH: ${HELM_INSTALL_HINT}`
        : 'if it runs outside the cluster, nothing to do; otherwise install cert-manager (its CRDs were not made by its Helm release, so the chart would not adopt them: remove them first, or apply the static manifest)',
    );
  }
  if (cm.controller && !cm.controller.available) {
    const c = cm.controller;
    add(
      'certManagerUnavailable',
      { apiVersion: 'apps/v1', kind: 'Deployment', namespace: c.namespace, name: c.name },
      `cert-manager's controller (${c.image}) has no available replica`,
      false,
    );
  }
  if (certManagerServed(f) && f.issuers.length === 0) {
    add('noIssuer', { apiVersion: '', kind: 'cert-manager', name: 'issuers' }, 'cert-manager has no Issuer or ClusterIssuer: it issues nothing', true);
  }
  for (const i of f.issuers) {
    if (i.ready === false) add('issuerNotReady', i.ref, `${i.kind} ${i.name} (${i.type}) is not Ready${i.message ? `: ${i.message}` : ''}`, false);
  }
  for (const c of f.certificates) {
    if (c.ready === false)
      add('certificateNotReady', c.ref, `certificate for ${c.dnsNames.join(', ') || c.secretName} is not Ready${c.message ? `: ${c.message}` : ''}`, false);
    if (c.notAfter) {
      const left = (new Date(c.notAfter).getTime() - now.getTime()) / DAY;
      const renewing = c.renewalTime !== undefined && new Date(c.renewalTime).getTime() > now.getTime();
      if (left < EXPIRY_DAYS && !renewing) {
        add(
          'certificateExpiring',
          c.ref,
          left < 0
            ? `expired on ${c.notAfter.slice(0, 10)} and was not renewed`
            : `expires on ${c.notAfter.slice(0, 10)} (${Math.floor(left)} days) and its renewal ${c.renewalTime ? `was due ${c.renewalTime.slice(0, 10)}` : 'time is unknown'}`,
          false,
        );
      }
    }
  }

  for (const i of f.ingresses) {
    const ref = refOf(i.object);
    if (i.uncovered.length) {
      add('ingressWithoutTls', ref, `serves ${i.uncovered.join(', ')} without TLS`, !blocked, blocked);
    } else if (i.hosts.length === 0 && i.secrets.length === 0) {
      add(
        'ingressWithoutTls',
        ref,
        'serves every host name (no host in its rules) without TLS',
        false,
        'a certificate needs host names: give its rules a host',
      );
    }
    for (const s of i.secrets) {
      const managed = s.managedBy ? ` (issued by cert-manager's Certificate ${s.managedBy})` : '';
      if (s.state === 'missing') {
        add('ingressCertMissing', ref, `its TLS Secret ${s.secretName} does not exist`, !blocked, blocked, s.secretName);
        continue;
      }
      if (!s.info) continue;
      // A Secret cert-manager writes is its Certificate's business (certificateExpiring / NotReady).
      const fixable = !blocked && !s.managedBy;
      const manual = s.managedBy ? `cert-manager's Certificate ${s.managedBy} writes it: change that Certificate's issuer or key` : blocked;
      if (s.info.daysLeft < EXPIRY_DAYS && !s.managedBy) {
        add(
          'ingressCertExpiring',
          ref,
          s.info.daysLeft < 0
            ? `its certificate ${s.secretName} expired on ${s.info.notAfter.slice(0, 10)}`
            : `its certificate ${s.secretName} expires on ${s.info.notAfter.slice(0, 10)} (${s.info.daysLeft} days)`,
          fixable,
          manual,
          s.secretName,
        );
      }
      if (s.info.selfSigned)
        add('ingressCertSelfSigned', ref, `its certificate ${s.secretName} is self-signed (${s.info.subject})${managed}`, fixable, manual, s.secretName);
      const weak = weakKey(s.info);
      if (weak) add('ingressCertWeakKey', ref, `its certificate ${s.secretName} has a weak key: ${weak}${managed}`, fixable, manual, s.secretName);
    }
  }
  return out;
}
