// IP addresses and CIDR blocks for ipBlock matching, IPv4 and IPv6, with no dependency on node:net.
// Semantics follow Go's net.ParseIP / ParseCIDR / IPNet.Contains (what Kubernetes and most CNIs use):
// a CIDR's host bits are masked off; an address only falls in a block of its own family; an IPv4-mapped
// IPv6 address (::ffff:a.b.c.d) is treated as the IPv4 address it carries.

export interface Ip {
  v6: boolean;
  value: bigint;
}

export interface Cidr {
  v6: boolean;
  /** The network address (host bits cleared). */
  base: bigint;
  prefix: number;
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6(s: string): bigint | undefined {
  if (s.includes('%')) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): string[] | undefined => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const words: number[] = [];
  const all = [...head, ...(halves.length === 2 ? ['::'] : []), ...tail];
  for (let i = 0; i < all.length; i++) {
    const g = all[i];
    if (g === '::') {
      words.push(-1);
    } else if (i === all.length - 1 && g.includes('.')) {
      const v4 = parseV4(g);
      if (v4 === undefined) return undefined;
      words.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      words.push(parseInt(g, 16));
    }
  }
  const gap = words.indexOf(-1);
  const explicit = words.filter((w) => w !== -1).length;
  if (gap === -1 ? explicit !== 8 : explicit > 7) return undefined;
  const full = gap === -1 ? words : [...words.slice(0, gap), ...Array(8 - explicit).fill(0), ...words.slice(gap + 1)];
  return full.reduce((acc, w) => (acc << 16n) | BigInt(w), 0n);
}

/** Parses an address; undefined when it is not one. */
export function parseIp(s: string): Ip | undefined {
  const v4 = parseV4(s);
  if (v4 !== undefined) return { v6: false, value: v4 };
  if (!s.includes(':')) return undefined;
  const v6 = parseV6(s);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { v6: false, value: v6 & 0xffffffffn };
  return { v6: true, value: v6 };
}

/** Parses `address/prefix`; undefined when it is not a CIDR. */
export function parseCidr(s: string): Cidr | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const addr = s.slice(0, slash);
  const len = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(len) || (len.length > 1 && len[0] === '0')) return undefined;
  const prefix = Number(len);
  const v4 = parseV4(addr);
  let v6 = false;
  let value: bigint;
  if (v4 !== undefined) value = v4;
  else {
    const p = addr.includes(':') ? parseV6(addr) : undefined;
    if (p === undefined) return undefined;
    v6 = true;
    value = p;
  }
  const bits = v6 ? 128 : 32;
  if (prefix > bits) return undefined;
  const host = BigInt(bits - prefix);
  return { v6, base: (value >> host) << host, prefix };
}

export function cidrContains(c: Cidr, ip: Ip): boolean {
  if (c.v6 !== ip.v6) return false;
  const host = BigInt((c.v6 ? 128 : 32) - c.prefix);
  return ip.value >> host === c.base >> host;
}
