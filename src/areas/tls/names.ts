/** Names of the objects the tls area creates: valid DNS-1123 subdomains, never one that is taken. */

const MAX = 253;

/** A DNS-1123 subdomain from any text: lowercase, [a-z0-9.-], starting and ending alphanumeric. */
export function dnsName(text: string, max = MAX): string {
  const s = text
    .toLowerCase()
    .replace(/\*/g, 'wildcard')
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/[.-]{2,}/g, '-')
    .slice(0, max)
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return s || 'x';
}

/** The Secret (and the Certificate the ingress-shim names after it) for one host of an Ingress. */
export const secretNameFor = (ingress: string, host: string) => dnsName(`${ingress}-${host.replace(/\./g, '-')}-tls`);

/** `base`, or `base-2`, `base-3`... the first that `taken` says is free (up to 20 tries). */
export async function freeName(base: string, taken: (name: string) => Promise<boolean>): Promise<string> {
  for (let i = 1; i <= 20; i++) {
    const name = i === 1 ? base : `${dnsName(base, MAX - 3)}-${i}`;
    if (!(await taken(name))) return name;
  }
  return `${dnsName(base, MAX - 14)}-${Date.now().toString(36)}`;
}
