import { UserFacingError } from '../../errors.ts';
import { showChar, visible } from '../text.ts';

declare const digestBrand: unique symbol;

/** A validated, canonical (lowercase) sha256 digest; the brand stops unchecked strings from posing as one. */
export type Digest = `sha256:${string}` & { readonly [digestBrand]: true };

/** A canonical image reference: Docker Hub spelled `docker.io`, official images under `library/`, host lowercased. */
export type ImageRef = { registry: string; repository: string; tag?: string; digest?: Digest };

/** An image reference that pins content, as found in `repo@sha256:…` forms. */
export type PinnedImageRef = ImageRef & { digest: Digest };

/**
 * The parsed argument of `/scope digest`: a full digest, a hex prefix to resolve, an image pinned by digest,
 * or an image config id (`docker://sha256:…` as a container status shows it) to match against config ids.
 */
export type DigestQuery =
  | { kind: 'digest'; digest: Digest }
  | { kind: 'digest-prefix'; prefix: string }
  | { kind: 'image'; ref: PinnedImageRef }
  | { kind: 'config'; configId: Digest };

/** The parsed argument of `/scope image`: a repository, optionally narrowed to one tag. */
export type ImageQuery = { registry: string; repository: string; tag?: string };

/**
 * What a Kubernetes container status says about the image actually running. `digest` is the manifest
 * (repo) digest when known; `configId` is the image config id, which never equals a manifest digest.
 */
export type RuntimeImage = {
  repoDigest?: { ref: PinnedImageRef; digest: Digest };
  digest?: Digest;
  configId?: Digest;
  raw: string;
};

/** Shortest hex prefix `/scope digest` accepts, so a prefix is very unlikely to match more than one image. */
export const MIN_DIGEST_PREFIX_HEX = 12;

/** The registry every Docker Hub alias is normalised to. */
export const DOCKER_HUB = 'docker.io';

const DIGEST_HEX_LENGTH = 64;
const MAX_TAG_LENGTH = 128;
const MAX_NAME_LENGTH = 255;
const MAX_INPUT_LENGTH = 1024;
const QUOTE_MAX = 100;
const INNER_QUOTE_MAX = 60;
const DOCKER_HUB_ALIASES = new Set([
  DOCKER_HUB,
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);
const OFFICIAL_PREFIX = 'library/';

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]*$/;
const DOMAIN_LABEL = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST_NAME = new RegExp(`^${DOMAIN_LABEL}(?:\\.${DOMAIN_LABEL})*$`);
const IPV6_HOST = /^\[[a-fA-F0-9:]+\]$/;
const HEX = /^[0-9a-f]+$/i;
const FULL_HEX = /^[0-9a-f]{64}$/i;
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
const RUNTIME_SCHEME = /^(?:docker-pullable|docker):\/\//i;
const DIGEST_ALGORITHM = /^[a-z][a-z0-9]*(?:[+._-][a-z][a-z0-9]*)*$/i;
const SLACK_LINK = /^<([^<>|]*)(?:\|([^<>]*))?>$/;
const BACKTICKS = /^(`+)([^`]*)\1$/;

const EXAMPLE_HEX = '4b1e2c9d07aa5f3e8c61d2b0a9f47e15c3d8b6a2f0e9c7d5b4a3f2e1d0c9b8a7';
const IMAGE_REF_HINT =
  'Give an image reference such as `nginx`, `nginx:1.25`, `ghcr.io/org/app:v2`, `localhost:5000/team/app:1.2` ' +
  'or `nginx:1.25@sha256:<64 hex digits>`.';
const DIGEST_HINT = `A digest is \`sha256:\` followed by 64 hex digits, for example \`sha256:${EXAMPLE_HEX}\`.`;
const DIGEST_QUERY_HINT =
  'Usage: `/scope digest <digest>`, where the digest is `sha256:<64 hex digits>`, the 64 hex digits alone, a ' +
  `prefix of at least ${MIN_DIGEST_PREFIX_HEX} hex digits (\`sha256:${EXAMPLE_HEX.slice(0, MIN_DIGEST_PREFIX_HEX)}\`) ` +
  'or an image pinned by digest (`nginx@sha256:<64 hex digits>`).';
const IMAGE_QUERY_HINT =
  'Usage: `/scope image <repo[:tag]>`, for example `/scope image nginx:1.25` or `/scope image ghcr.io/org/app`.';

/** True when `s` is already a canonical digest: `sha256:` and 64 lowercase hex digits. */
export function isDigest(s: string): s is Digest {
  return s.startsWith('sha256:') && /^[0-9a-f]{64}$/.test(s.slice(7));
}

/** Validates user or API text as a sha256 digest and returns it lowercased; throws a UserFacingError otherwise. */
export function parseDigest(input: string): Digest {
  const s = stripChatFormatting(input);
  if (s === '') throw new UserFacingError('BAD_INPUT', 'No digest given.', DIGEST_HINT);
  const checked = checkDigest(s);
  if (typeof checked === 'string') {
    throw new UserFacingError('BAD_INPUT', `Digest ${quote(s)} is invalid: ${checked}.`, DIGEST_HINT);
  }
  return checked.digest;
}

/** The 64 hex digits of a digest, without the algorithm. */
export function digestHex(digest: Digest): string {
  return digest.slice('sha256:'.length);
}

/** A display form such as `sha256:8e6b…c0f1` for messages where the full digest would be noise. */
export function shortDigest(digest: Digest): string {
  const hex = digestHex(digest);
  return `sha256:${hex.slice(0, 4)}…${hex.slice(-4)}`;
}

/** True when `prefix` (hex, with or without `sha256:`, any case) is a non-empty prefix of `digest`. */
export function matchesDigestPrefix(digest: Digest, prefix: string): boolean {
  let p = prefix.trim().toLowerCase();
  if (p.startsWith('sha256:')) p = p.slice('sha256:'.length);
  return p !== '' && HEX.test(p) && digestHex(digest).startsWith(p);
}

/** Parses an image reference the way `docker pull` does and returns its canonical form. */
export function parseImageRef(input: string): ImageRef {
  return parseRef(input, IMAGE_REF_HINT);
}

/** The canonical, fully qualified string, e.g. `docker.io/library/nginx:1.25@sha256:…`; parses back unchanged. */
export function formatImageRef(ref: ImageRef): string {
  return `${repositoryKey(ref)}${suffix(ref, 'full')}`;
}

/**
 * The short form people type, e.g. `nginx:1.25` or `ghcr.io/org/app:v2`; still a valid reference. The digest
 * is printed in full unless `digest` says to shorten it for display or omit it.
 */
export function familiarImageRef(
  ref: ImageRef,
  options: { digest?: 'full' | 'short' | 'omit' } = {},
): string {
  return `${familiarName(ref)}${suffix(ref, options.digest ?? 'full')}`;
}

/** `registry/repository`, the key images are indexed and grouped by regardless of tag or digest. */
export function repositoryKey(ref: Pick<ImageRef, 'registry' | 'repository'>): string {
  return `${ref.registry}/${ref.repository}`;
}

/** Parses the argument of `/scope digest`; a tag-only image is refused in favour of `/scope image`. */
export function parseDigestQuery(input: string): DigestQuery {
  let s = stripChatFormatting(input);
  if (s === '') throw new UserFacingError('BAD_INPUT', 'No digest given.', DIGEST_QUERY_HINT);
  const bad = (problem: string) =>
    new UserFacingError('BAD_INPUT', `${quote(s)} is not a digest: ${problem}.`, DIGEST_QUERY_HINT);

  // Pasted from `kubectl get pod -o yaml` (status.imageID): the runtime's scheme says what the id is.
  const scheme = RUNTIME_SCHEME.exec(s)?.[0];
  if (scheme !== undefined && scheme.toLowerCase() === 'docker://') {
    const rest = s.slice(scheme.length);
    const checked = checkDigest(FULL_HEX.test(rest) ? `sha256:${rest}` : rest);
    if (typeof checked === 'string') throw bad(checked);
    return { kind: 'config', configId: checked.digest };
  }
  if (scheme !== undefined) s = s.slice(scheme.length);

  if (!s.includes('@') && !s.includes('/')) {
    const colon = s.indexOf(':');
    const algorithm = colon === -1 ? undefined : s.slice(0, colon);
    const rest = colon === -1 ? s : s.slice(colon + 1);
    if (algorithm?.toLowerCase() === 'sha256' || (algorithm === undefined && looksLikeHex(rest))) {
      return hexQuery(rest, bad);
    }
    if (algorithm !== undefined && DIGEST_ALGORITHM.test(algorithm) && HEX.test(rest) && rest.length >= 32) {
      throw bad(`algorithm "${algorithm}" is not supported; only sha256 digests are`);
    }
  }

  const ref = parseRef(s, DIGEST_QUERY_HINT);
  if (ref.digest === undefined) {
    const familiar = familiarImageRef(ref);
    throw new UserFacingError(
      'BAD_INPUT',
      ref.tag === undefined
        ? `${quote(s)} names an image but no digest.`
        : `${quote(s)} names an image tag but no digest; a tag can point at different digests over time.`,
      `To see which digests \`${familiar}\` runs as, use \`/scope image ${familiar}\`. ${DIGEST_QUERY_HINT}`,
    );
  }
  return { kind: 'image', ref: ref as PinnedImageRef };
}

/** Parses the argument of `/scope image`; anything pinning a digest is refused in favour of `/scope digest`. */
export function parseImageQuery(input: string): ImageQuery {
  const s = stripChatFormatting(input);
  const digestHint = `To find where a digest runs, use \`/scope digest ${truncate(s)}\`. ${IMAGE_QUERY_HINT}`;
  if (/^sha256:/i.test(s) || FULL_HEX.test(s)) {
    throw new UserFacingError('BAD_INPUT', `${quote(s)} is a digest, not an image name.`, digestHint);
  }
  const ref = parseRef(s, IMAGE_QUERY_HINT);
  if (ref.digest !== undefined) {
    throw new UserFacingError(
      'BAD_INPUT',
      `${quote(s)} pins a digest; \`/scope image\` takes a repository with an optional tag.`,
      digestHint,
    );
  }
  const query: ImageQuery = { registry: ref.registry, repository: ref.repository };
  if (ref.tag !== undefined) query.tag = ref.tag;
  return query;
}

/**
 * Reads `status.containerStatuses[].imageID` (plus the spec's image, if pinned) without ever throwing, so
 * one odd pod cannot stop inventory collection. Empty or unrecognised ids yield `{ raw }` only.
 */
export function parseRuntimeImageId(imageID: string, imageAsWritten?: string): RuntimeImage {
  const result: RuntimeImage = { raw: imageID };
  let id = imageID.trim();
  if (id === '') return result;
  for (const scheme of ['docker-pullable://', 'docker://']) {
    if (id.toLowerCase().startsWith(scheme)) {
      id = id.slice(scheme.length);
      break;
    }
  }

  const asConfig = FULL_HEX.test(id) ? `sha256:${id}` : id;
  const config = checkDigest(asConfig);
  if (typeof config !== 'string') {
    result.configId = config.digest;
    const pinned = imageAsWritten === undefined ? undefined : tryParseRef(imageAsWritten)?.digest;
    if (pinned !== undefined) result.digest = pinned;
    return result;
  }

  const ref = id.includes('@') ? tryParseRef(id) : undefined;
  if (ref?.digest !== undefined) {
    result.repoDigest = { ref: ref as PinnedImageRef, digest: ref.digest };
    result.digest = ref.digest;
  }
  return result;
}

/** Narrows a RuntimeImage to one whose running manifest digest is known, for digest-keyed indexing. */
export function isManifestDigestKnown(rt: RuntimeImage): rt is RuntimeImage & { digest: Digest } {
  return rt.digest !== undefined;
}

function parseRef(input: string, hint: string): ImageRef {
  const s = stripChatFormatting(input);
  if (s === '') throw new UserFacingError('BAD_INPUT', 'No image reference given.', hint);
  const bad = (problem: string) =>
    new UserFacingError('BAD_INPUT', `Image reference ${quote(s)} ${problem}.`, hint);

  if (s.length > MAX_INPUT_LENGTH) {
    throw bad(`is ${s.length} characters long; references are at most ${MAX_INPUT_LENGTH}`);
  }
  if (/\s/.test(s)) throw bad('contains whitespace; a reference is a single word');
  const scheme = URL_SCHEME.exec(s)?.[0] ?? (s.includes('://') ? '://' : undefined);
  if (scheme !== undefined) {
    const bare = s.slice(s.indexOf('://') + 3);
    throw bad(`contains the URL scheme "${scheme}"; give the registry host without it, e.g. ${quote(bare)}`);
  }
  if (/^sha256:/i.test(s) || FULL_HEX.test(s)) {
    throw bad('is a bare digest; put the repository in front, e.g. `nginx@sha256:<64 hex digits>`');
  }

  let nameAndTag = s;
  let digest: Digest | undefined;
  const at = s.indexOf('@');
  if (at !== -1) {
    if (s.indexOf('@', at + 1) !== -1) throw bad('contains more than one "@"; only the digest follows it');
    nameAndTag = s.slice(0, at);
    const digestText = s.slice(at + 1);
    if (nameAndTag === '') throw bad('has no repository before "@"');
    if (digestText === '') throw bad('ends with "@" but has no digest after it');
    const checked = checkDigest(digestText);
    if (typeof checked === 'string') throw bad(`has an invalid digest ${quote(digestText)}: ${checked}`);
    digest = checked.digest;
  }

  let name = nameAndTag;
  let tag: string | undefined;
  const tagColon = nameAndTag.indexOf(':', nameAndTag.lastIndexOf('/') + 1);
  if (tagColon !== -1) {
    name = nameAndTag.slice(0, tagColon);
    tag = nameAndTag.slice(tagColon + 1);
    if (tag === '') throw bad('has ":" but no tag after it; give a tag such as `:1.25` or drop the ":"');
    const problem = tagProblem(tag);
    if (problem !== undefined) throw bad(problem);
  }
  if (name === '') throw bad('has no repository name');

  let registry = DOCKER_HUB;
  let repository = name;
  const slash = name.indexOf('/');
  if (slash !== -1) {
    const first = name.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first.toLowerCase() === 'localhost') {
      const problem = registryProblem(first);
      if (problem !== undefined) throw bad(problem);
      registry = first.toLowerCase();
      repository = name.slice(slash + 1);
    }
  }
  if (repository === '') throw bad(`has registry "${registry}" but no repository after it`);
  const problem = repositoryProblem(repository);
  if (problem !== undefined) throw bad(problem);

  if (DOCKER_HUB_ALIASES.has(registry)) {
    registry = DOCKER_HUB;
    if (!repository.includes('/')) repository = `${OFFICIAL_PREFIX}${repository}`;
  }
  const key = repositoryKey({ registry, repository });
  if (key.length > MAX_NAME_LENGTH) {
    throw bad(
      `has a name of ${key.length} characters (${truncate(key, 40)}); the limit is ${MAX_NAME_LENGTH}`,
    );
  }

  const ref: ImageRef = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

function tryParseRef(input: string): ImageRef | undefined {
  try {
    return parseRef(input, IMAGE_REF_HINT);
  } catch (err) {
    if (err instanceof UserFacingError) return undefined;
    throw err;
  }
}

function checkDigest(text: string): { digest: Digest } | string {
  if (text.includes('…') || text.includes('...')) {
    return 'it is shortened (contains an ellipsis); paste the full digest';
  }
  const colon = text.indexOf(':');
  if (colon === -1) {
    return HEX.test(text)
      ? 'it has no algorithm; write `sha256:` in front of the hex digits'
      : 'it is not of the form `sha256:<64 hex digits>`';
  }
  const algorithm = text.slice(0, colon);
  const hex = text.slice(colon + 1).toLowerCase();
  if (algorithm.toLowerCase() !== 'sha256') {
    return DIGEST_ALGORITHM.test(algorithm)
      ? `algorithm "${truncate(algorithm, 20)}" is not supported; only sha256 digests are`
      : 'it is not of the form `sha256:<64 hex digits>`';
  }
  const nonHex = [...hex].find((c) => !HEX.test(c));
  if (nonHex !== undefined) return `${showChar(nonHex)} is not a hex digit`;
  if (hex.length !== DIGEST_HEX_LENGTH) {
    return `it has ${hex.length} hex digits after "sha256:"; a sha256 digest has exactly ${DIGEST_HEX_LENGTH}`;
  }
  return { digest: `sha256:${hex}` as Digest };
}

function hexQuery(text: string, bad: (problem: string) => UserFacingError): DigestQuery {
  if (text.includes('…') || text.includes('...')) {
    throw bad(
      `it is shortened (contains an ellipsis); paste the full digest or its first ${MIN_DIGEST_PREFIX_HEX}+ hex digits`,
    );
  }
  const hex = text.toLowerCase();
  const nonHex = [...hex].find((c) => !HEX.test(c));
  if (nonHex !== undefined) throw bad(`${showChar(nonHex)} is not a hex digit`);
  if (hex.length > DIGEST_HEX_LENGTH) {
    throw bad(`it has ${hex.length} hex digits; a sha256 digest has exactly ${DIGEST_HEX_LENGTH}`);
  }
  if (hex.length === DIGEST_HEX_LENGTH) return { kind: 'digest', digest: `sha256:${hex}` as Digest };
  if (hex.length < MIN_DIGEST_PREFIX_HEX) {
    throw bad(
      `a digest prefix needs at least ${MIN_DIGEST_PREFIX_HEX} hex digits to be unambiguous, and this has ${hex.length}`,
    );
  }
  return { kind: 'digest-prefix', prefix: hex };
}

function looksLikeHex(text: string): boolean {
  if (HEX.test(text)) return true;
  // A long run of letters and digits, or one with an ellipsis, is a mistyped or shortened digest, not a repository.
  return /^[0-9a-z]{32,}$/i.test(text) || /^[0-9a-z]+(?:…|\.\.\.)[0-9a-z]*$/i.test(text);
}

function tagProblem(tag: string): string | undefined {
  if (tag.length > MAX_TAG_LENGTH) {
    return `has a tag of ${tag.length} characters; tags are at most ${MAX_TAG_LENGTH}`;
  }
  if (TAG.test(tag)) return undefined;
  const shown = quote(tag);
  if (!/^\w/.test(tag)) return `has tag ${shown}, which must start with a letter, digit or "_"`;
  const badChar = [...tag].find((c) => !/[\w.-]/.test(c)) ?? '';
  return `has tag ${shown} containing ${showChar(badChar)}; tags may contain only letters, digits, "_", "." and "-"`;
}

function registryProblem(registry: string): string | undefined {
  let host = registry;
  let port: string | undefined;
  if (registry.startsWith('[')) {
    const close = registry.indexOf(']');
    host = close === -1 ? registry : registry.slice(0, close + 1);
    const after = close === -1 ? '' : registry.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return `has registry ${quote(registry)}, which is not a valid host`;
      port = after.slice(1);
    }
  } else {
    const colon = registry.indexOf(':');
    if (colon !== -1) {
      host = registry.slice(0, colon);
      port = registry.slice(colon + 1);
    }
  }
  if (!HOST_NAME.test(host) && !IPV6_HOST.test(host)) {
    return `has registry host ${quote(host)}, which is not a valid host name`;
  }
  if (port === undefined) return undefined;
  if (port === '') return `has registry ${quote(registry)} with ":" but no port number`;
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    return `has registry ${quote(registry)} whose port ${quote(port)} is not a number from 1 to 65535`;
  }
  return undefined;
}

function repositoryProblem(repository: string): string | undefined {
  for (const component of repository.split('/')) {
    if (PATH_COMPONENT.test(component)) continue;
    if (component === '') return `has an empty segment in repository path ${quote(repository)}`;
    const lower = component.toLowerCase();
    if (lower !== component) {
      const fix = repository.split('/').every((c) => PATH_COMPONENT.test(c.toLowerCase()))
        ? ` (try ${quote(repository.toLowerCase(), INNER_QUOTE_MAX)})`
        : '';
      return `has uppercase letters in repository ${quote(repository, INNER_QUOTE_MAX)}; repository names must be lowercase${fix}`;
    }
    return (
      `has invalid repository path component ${quote(component, INNER_QUOTE_MAX)}; components are lowercase letters and digits, ` +
      'joined by single ".", "_", "__" or runs of "-"'
    );
  }
  return undefined;
}

function familiarName(ref: ImageRef): string {
  if (ref.registry !== DOCKER_HUB) return repositoryKey(ref);
  const rest = ref.repository.startsWith(OFFICIAL_PREFIX) ? ref.repository.slice(OFFICIAL_PREFIX.length) : '';
  const short = rest !== '' && !rest.includes('/') ? rest : ref.repository;
  const first = short.split('/')[0] ?? '';
  // A Hub path whose first segment looks like a host would be read back as a registry, so keep docker.io.
  const ambiguous = short.includes('/') && (first.includes('.') || first === 'localhost');
  return ambiguous ? repositoryKey(ref) : short;
}

function suffix(ref: ImageRef, digest: 'full' | 'short' | 'omit'): string {
  const tag = ref.tag === undefined ? '' : `:${ref.tag}`;
  if (ref.digest === undefined || digest === 'omit') return tag;
  return `${tag}@${digest === 'short' ? shortDigest(ref.digest) : ref.digest}`;
}

function stripChatFormatting(input: string): string {
  let s = input.trim();
  if (s.length > MAX_INPUT_LENGTH * 4) return s;
  for (;;) {
    const before = s;
    const ticks = BACKTICKS.exec(s);
    if (ticks) s = (ticks[2] ?? '').trim();
    const link = SLACK_LINK.exec(s);
    if (link) s = (link[2] ?? link[1] ?? '').trim();
    if (s === before) return s;
  }
}

function truncate(s: string, max = QUOTE_MAX): string {
  const chars = Array.from(s);
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : s;
}

function quote(s: string, max = QUOTE_MAX): string {
  return JSON.stringify(visible(truncate(s, max)));
}
