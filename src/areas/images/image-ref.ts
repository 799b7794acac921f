/**
 * Image references as the container runtime reads them (github.com/distribution/reference's
 * normalisation): `nginx` is `docker.io/library/nginx:latest`, the first path component is a registry
 * host when it is `localhost` or holds a `.`, a `:` or an upper-case letter, `index.docker.io` is
 * `docker.io`, a tag follows the last `:` of the last component, a digest follows `@`.
 *
 * The admission policy (policy-cel.ts) computes the same parts in CEL, step by step like this parser,
 * and the differential test holds the two to the same answers on the real API server. So this parser
 * never refuses a string (the API server stores any image text): it splits whatever it is given the
 * way the CEL does.
 */

export interface ImageRef {
  /** The text as written in the pod spec. */
  raw: string;
  /** Registry host, with its port: `docker.io`, `ghcr.io`, `registry.local:5000`, `localhost`. */
  registry: string;
  /** Path in the registry: `library/nginx`, `org/app`. */
  repository: string;
  /** `registry/repository`, the name allow-lists are matched against. */
  name: string;
  /** The tag as written ('' when none). */
  tag: string;
  /** `sha256:...` when pinned by digest ('' when none). */
  digest: string;
  /** No tag and no digest: the runtime pulls `:latest`. */
  untagged: boolean;
  /** Tagged `latest`, or untagged (implicitly latest). */
  latest: boolean;
  /** Pinned by digest: the content cannot change under the same reference. */
  pinned: boolean;
}

export const DEFAULT_REGISTRY = 'docker.io';
const LEGACY_REGISTRY = 'index.docker.io';

/** Whether the first path component names a registry host (distribution/reference's splitDockerDomain). */
export const isRegistryHost = (first: string): boolean => first === 'localhost' || /[.:A-Z]/.test(first);

export function parseImage(raw: string): ImageRef {
  const at = raw.indexOf('@');
  const named = at < 0 ? raw : raw.slice(0, at);
  const digest = at < 0 ? '' : raw.slice(at + 1);
  // A tag is a `:` in the last path component (a `:` before a `/` is a registry port).
  const tagged = /:[^/]*$/.test(named);
  const colon = named.lastIndexOf(':');
  const repoPart = tagged ? named.slice(0, colon) : named;
  const tag = tagged ? named.slice(colon + 1) : '';
  const slash = repoPart.indexOf('/');
  const hasHost = slash >= 0 && isRegistryHost(repoPart.slice(0, slash));
  let registry = hasHost ? repoPart.slice(0, slash) : DEFAULT_REGISTRY;
  let repository = hasHost ? repoPart.slice(slash + 1) : repoPart;
  if (registry === LEGACY_REGISTRY) registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
  const untagged = !tagged && at < 0;
  return {
    raw,
    registry,
    repository,
    name: `${registry}/${repository}`,
    tag,
    digest,
    untagged,
    latest: tag === 'latest' || untagged,
    pinned: at >= 0,
  };
}

/**
 * An allow-list entry as users write it (`docker.io`, `ghcr.io/my-org`, `index.docker.io`,
 * `registry.local:5000/`), normalised like an image name: lower-case host kept as written, no trailing
 * slash, `index.docker.io` is `docker.io`.
 */
export function normaliseAllowed(entry: string): string {
  let e = entry.trim().replace(/\/+$/, '');
  if (e === LEGACY_REGISTRY || e.startsWith(`${LEGACY_REGISTRY}/`)) e = DEFAULT_REGISTRY + e.slice(LEGACY_REGISTRY.length);
  return e;
}

/** Whether an image comes from one of the allowed registries (a host, or a host and path prefix). */
export const registryAllowed = (ref: ImageRef, allowed: string[]): boolean => allowed.some((a) => ref.name === a || ref.name.startsWith(`${a}/`));

/**
 * The digest a running container's `imageID` names, when it is a repository digest
 * (`docker.io/library/nginx@sha256:...`, `docker-pullable://nginx@sha256:...`); a bare `sha256:...` is
 * the local image id, not something a pod spec can pin to.
 */
export function runningDigest(imageID: string | undefined): string | undefined {
  if (!imageID) return undefined;
  const at = imageID.lastIndexOf('@');
  if (at < 0) return undefined;
  const d = imageID.slice(at + 1);
  return /^sha256:[0-9a-f]{64}$/.test(d) ? d : undefined;
}

/** The reference pinned to a digest: `repo:tag@digest`, except that `:latest` is dropped (the digest decides). */
export function pinnedReference(ref: ImageRef, digest: string): string {
  const at = ref.raw.indexOf('@');
  const named = at < 0 ? ref.raw : ref.raw.slice(0, at);
  const base = ref.tag === 'latest' ? named.slice(0, named.lastIndexOf(':')) : named;
  return `${base}@${digest}`;
}

/** A short form for tables: the reference as written. */
export const shortImage = (ref: ImageRef): string => ref.raw;
