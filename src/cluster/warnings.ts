/**
 * Parse an HTTP `Warning` header as sent by the API server (RFC 7234 form `299 - "text"`).
 * Several warnings may arrive joined by ", " into one string, and the texts themselves contain
 * commas (Pod Security messages do), so split on the quoted entries, never on commas.
 */
export function parseWarnings(header: string | string[] | undefined): string[] {
  if (!header) return [];
  const raw = Array.isArray(header) ? header.join(', ') : header;
  const out: string[] = [];
  const re = /\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(raw)) !== null) out.push(m[1].replace(/\\(.)/g, '$1'));
  if (out.length === 0 && raw.trim()) out.push(raw.trim());
  return out;
}
