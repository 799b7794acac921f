/**
 * Certificates in use, described the way an operator asks about them: who issued it, until when, is it
 * self-signed, what key. Pure: PEM text in, plain data out (node:crypto's X509Certificate does the
 * parsing). The apiserver area may describe the API server's serving certificate with the same helper.
 */
import { X509Certificate } from 'node:crypto';

export interface CertificateInfo {
  subject: string;
  issuer: string;
  /** DNS names and IP addresses of the subjectAltName, e.g. "DNS:web.example.test". */
  altNames: string[];
  notBefore: string;
  notAfter: string;
  /** Whole days from `now` to notAfter (negative: expired). */
  daysLeft: number;
  selfSigned: boolean;
  ca: boolean;
  /** 'RSA', 'EC', 'Ed25519', ... */
  keyType: string;
  /** Bits: the RSA modulus, the EC curve's size; undefined when unknown. */
  keyBits?: number;
  /** The EC curve (prime256v1, secp384r1...). */
  curve?: string;
  /** Certificates after the first in the PEM text (the chain). */
  chainLength: number;
  fingerprint256: string;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The PEM certificate blocks of a text (a tls.crt holds the leaf first, then its chain). */
export const pemBlocks = (text: string): string[] => text.match(PEM_BLOCK) ?? [];

const CURVE_BITS: Record<string, number> = { prime256v1: 256, secp256k1: 256, secp384r1: 384, secp521r1: 521, 'P-256': 256, 'P-384': 384, 'P-521': 521 };
const KEY_TYPES: Record<string, string> = { rsa: 'RSA', 'rsa-pss': 'RSA-PSS', ec: 'EC', ed25519: 'Ed25519', ed448: 'Ed448', dsa: 'DSA' };

const DAY = 86_400_000;

/** Describe the first certificate of a PEM text; throws when there is none or it does not parse. */
export function describeCertificate(pem: string, now: Date = new Date()): CertificateInfo {
  const blocks = pemBlocks(pem);
  if (!blocks.length) throw new Error('no PEM certificate');
  const cert = new X509Certificate(blocks[0]);
  const key = cert.publicKey;
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  const curve = details.namedCurve;
  const keyBits = details.modulusLength ?? (curve ? CURVE_BITS[curve] : type === 'ed25519' ? 256 : type === 'ed448' ? 456 : undefined);
  let selfSigned: boolean;
  try {
    selfSigned = cert.checkIssued(cert) && cert.verify(cert.publicKey);
  } catch {
    selfSigned = false;
  }
  const notAfter = new Date(cert.validTo);
  return {
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    altNames: (cert.subjectAltName ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - now.getTime()) / DAY),
    selfSigned,
    ca: cert.ca,
    keyType: KEY_TYPES[type] ?? type,
    keyBits,
    curve,
    chainLength: blocks.length - 1,
    fingerprint256: cert.fingerprint256,
  };
}

/** "CN=web\nO=Example" (node's multi-line form) as "CN=web, O=Example". */
const oneLine = (dn: string) =>
  dn
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .join(', ');

/** Weak by today's baseline (NIST SP 800-57, CA/Browser Forum): RSA below 2048 bits, EC below 256. */
export function weakKey(info: Pick<CertificateInfo, 'keyType' | 'keyBits'>): string | undefined {
  if ((info.keyType === 'RSA' || info.keyType === 'RSA-PSS') && info.keyBits !== undefined && info.keyBits < 2048)
    return `RSA ${info.keyBits} bits (at least 2048)`;
  if (info.keyType === 'EC' && info.keyBits !== undefined && info.keyBits < 256) return `EC ${info.keyBits} bits (at least 256)`;
  if (info.keyType === 'DSA') return 'DSA key (not accepted by browsers)';
  return undefined;
}

/** One line: "CN=web.example.test, issued by CN=kube-harden CA, expires 2026-05-01 (89 days), EC 256". */
export function certificateSummary(info: CertificateInfo): string {
  const expiry = info.daysLeft < 0 ? `expired ${info.notAfter.slice(0, 10)}` : `expires ${info.notAfter.slice(0, 10)} (${info.daysLeft} days)`;
  const by = info.selfSigned ? 'self-signed' : `issued by ${info.issuer}`;
  const key = `${info.keyType}${info.keyBits ? ` ${info.keyBits}` : ''}`;
  return `${info.subject || info.altNames[0] || '(no subject)'}, ${by}, ${expiry}, ${key}`;
}
