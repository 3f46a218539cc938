import { createHash } from 'node:crypto';
import pLimit, { type LimitFunction } from 'p-limit';
import { basicHeader, type CredentialSource, normaliseHost, parseChallenge } from './auth.ts';
import { MANIFEST_ACCEPT, OCI_INDEX } from './media-types.ts';

/** How scope talks to one allowed registry; anything not listed is never contacted. */
export type RegistrySettings = {
  /** Registry name as it appears in image references (`ghcr.io`, `localhost:5000`, `docker.io`). */
  host: string;
  /** Base URL; default `https://<host>` (`https://registry-1.docker.io` for docker.io). http only when set so. */
  endpoint?: string;
  /** Other hosts this registry sends us to: token realms, blob storage redirects. */
  extraHosts?: readonly string[];
  concurrency?: number;
  timeoutMs?: number;
  retries?: number;
};

export type RegistryErrorCode =
  | 'not-allowed'
  | 'not-found'
  | 'unauthorized'
  | 'denied'
  | 'unreachable'
  | 'timeout'
  | 'too-large'
  | 'digest-mismatch'
  | 'protocol';

/** A registry call that did not give us what we asked for, classified so outcomes stay apart. */
export class RegistryError extends Error {
  readonly code: RegistryErrorCode;
  readonly status: number | undefined;
  constructor(code: RegistryErrorCode, message: string, status?: number) {
    super(message);
    this.name = 'RegistryError';
    this.code = code;
    this.status = status;
  }
}

/** `registry` + `repository` as in an image reference (`ghcr.io` + `acme/app`). */
export type RepoName = { registry: string; repository: string };

export type Descriptor = {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string; variant?: string };
};

/** The fields of an image manifest or index scope reads; the raw bytes are kept for digests and signatures. */
export type ManifestJson = {
  schemaVersion?: number;
  mediaType?: string;
  artifactType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
};

export type Manifest = { digest: string; mediaType: string; bytes: Buffer; json: ManifestJson };

/** Counters for the benchmark: how much of the time is registry round trips. */
export type RegistryStats = { requests: number; retries: number; tokenFetches: number; bytes: number };

export type RegistryClientOptions = {
  registries: readonly RegistrySettings[];
  credentials?: CredentialSource;
  maxManifestBytes?: number;
  maxBlobBytes?: number;
  /** Base delay for retries without Retry-After (doubles per attempt). */
  retryBaseMs?: number;
  /** Longest Retry-After honoured; a longer one fails the call instead of stalling the job. */
  maxRetryAfterMs?: number;
};

const DEFAULTS = { concurrency: 8, timeoutMs: 10_000, retries: 3 };
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const REPO = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

type Resolved = {
  settings: Required<Omit<RegistrySettings, 'endpoint' | 'extraHosts'>>;
  base: URL;
  hosts: Set<string>;
};

/**
 * OCI distribution client for the registries the configuration allows: manifests and indexes with the right
 * `Accept`, blobs checked against their digest and size, the referrers API, Docker-config and bearer-token
 * auth, per-registry concurrency, timeouts, and retries on 429/5xx honouring `Retry-After`.
 */
export class RegistryClient {
  readonly stats: RegistryStats = { requests: 0, retries: 0, tokenFetches: 0, bytes: 0 };
  readonly #registries = new Map<string, Resolved>();
  readonly #limits = new Map<string, LimitFunction>();
  readonly #tokens = new Map<string, { token: string; expires: number }>();
  readonly #bearerHosts = new Set<string>();
  readonly #opts: RegistryClientOptions;

  constructor(opts: RegistryClientOptions) {
    this.#opts = opts;
    for (const r of opts.registries) {
      const host = normaliseHost(r.host);
      const base = new URL(
        r.endpoint ?? (host === 'docker.io' ? 'https://registry-1.docker.io' : `https://${host}`),
      );
      const hosts = new Set([base.host, ...(r.extraHosts ?? []).map((h) => h.toLowerCase())]);
      if (host === 'docker.io' && !r.extraHosts) hosts.add('auth.docker.io');
      this.#registries.set(host, {
        settings: {
          host,
          concurrency: r.concurrency ?? DEFAULTS.concurrency,
          timeoutMs: r.timeoutMs ?? DEFAULTS.timeoutMs,
          retries: r.retries ?? DEFAULTS.retries,
        },
        base,
        hosts,
      });
      this.#limits.set(host, pLimit(r.concurrency ?? DEFAULTS.concurrency));
    }
  }

  /** True when scope may contact this registry at all. */
  allows(registry: string): boolean {
    return this.#registries.has(normaliseHost(registry));
  }

  /** Fetches a manifest or index by tag or digest; a digest reference is checked against the bytes. */
  async manifest(repo: RepoName, reference: string, signal?: AbortSignal): Promise<Manifest> {
    if (!DIGEST.test(reference) && !TAG.test(reference))
      throw new RegistryError('protocol', `bad manifest reference ${reference.slice(0, 80)}`);
    const res = await this.#request(repo, `manifests/${reference}`, { accept: MANIFEST_ACCEPT }, signal);
    const bytes = await readCapped(res, this.#opts.maxManifestBytes ?? 4 * 1024 * 1024);
    this.stats.bytes += bytes.length;
    const digest = sha256(bytes);
    if (DIGEST.test(reference) && digest !== reference)
      throw new RegistryError('digest-mismatch', `manifest ${reference} has digest ${digest}`);
    const header = res.headers.get('docker-content-digest');
    if (header && DIGEST.test(header) && header !== digest)
      throw new RegistryError('digest-mismatch', `registry says ${header}, bytes hash to ${digest}`);
    const json = parseJson(bytes, 'manifest') as ManifestJson;
    const mediaType = json.mediaType ?? res.headers.get('content-type')?.split(';')[0] ?? '';
    return { digest, mediaType, bytes, json };
  }

  /** Resolves a tag to the digest it points at now. */
  async resolveTag(repo: RepoName, tag: string, signal?: AbortSignal): Promise<string> {
    return (await this.manifest(repo, tag, signal)).digest;
  }

  /** Fetches a blob, refusing one larger than `maxBytes` or whose bytes do not hash to its digest. */
  async blob(repo: RepoName, digest: string, signal?: AbortSignal, maxBytes?: number): Promise<Buffer> {
    if (!DIGEST.test(digest)) throw new RegistryError('protocol', `bad blob digest ${digest.slice(0, 80)}`);
    const res = await this.#request(repo, `blobs/${digest}`, {}, signal);
    const bytes = await readCapped(res, maxBytes ?? this.#opts.maxBlobBytes ?? 16 * 1024 * 1024);
    this.stats.bytes += bytes.length;
    if (sha256(bytes) !== digest) throw new RegistryError('digest-mismatch', `blob ${digest} does not match`);
    return bytes;
  }

  /** The referrers API (OCI 1.1); `undefined` when the registry does not implement it (404). */
  async referrers(repo: RepoName, digest: string, signal?: AbortSignal): Promise<ManifestJson | undefined> {
    if (!DIGEST.test(digest)) throw new RegistryError('protocol', `bad digest ${digest.slice(0, 80)}`);
    let res: Response;
    try {
      res = await this.#request(repo, `referrers/${digest}`, { accept: OCI_INDEX }, signal);
    } catch (err) {
      if (err instanceof RegistryError && err.code === 'not-found') return undefined;
      throw err;
    }
    const json = parseJson(
      await readCapped(res, this.#opts.maxManifestBytes ?? 4 * 1024 * 1024),
      'referrers',
    );
    return json as ManifestJson;
  }

  async #request(
    repo: RepoName,
    path: string,
    opts: { accept?: string },
    signal?: AbortSignal,
  ): Promise<Response> {
    const host = normaliseHost(repo.registry);
    const reg = this.#registries.get(host);
    if (!reg) throw new RegistryError('not-allowed', `registry ${repo.registry} is not in the allowed list`);
    if (!REPO.test(repo.repository))
      throw new RegistryError('protocol', `bad repository name ${repo.repository.slice(0, 80)}`);
    const url = new URL(`v2/${repo.repository}/${path}`, ensureSlash(reg.base));
    const limit = this.#limits.get(host) as LimitFunction;
    return limit(() => this.#withAuth(reg, repo.repository, url, opts, signal));
  }

  async #withAuth(
    reg: Resolved,
    repository: string,
    url: URL,
    opts: { accept?: string },
    signal?: AbortSignal,
  ): Promise<Response> {
    const scope = `repository:${repository}:pull`;
    const tokenKey = `${reg.settings.host}|${scope}`;
    const headers: Record<string, string> = opts.accept ? { accept: opts.accept } : {};
    const cached = this.#tokens.get(tokenKey);
    if (cached && cached.expires > Date.now()) headers.authorization = `Bearer ${cached.token}`;
    else if (!this.#bearerHosts.has(reg.settings.host)) {
      const cred = await this.#opts.credentials?.(reg.settings.host);
      if (cred && reg.base.protocol === 'https:') headers.authorization = basicHeader(cred);
    }
    let res = await this.#fetchRetrying(reg, url, headers, signal);
    if (res.status === 401) {
      const challenge = parseChallenge(res.headers.get('www-authenticate') ?? '');
      await res.body?.cancel();
      if (challenge?.scheme === 'bearer') {
        this.#bearerHosts.add(reg.settings.host);
        const token = await this.#fetchToken(reg, challenge.params, scope, signal);
        this.#tokens.set(tokenKey, token);
        res = await this.#fetchRetrying(
          reg,
          url,
          { ...headers, authorization: `Bearer ${token.token}` },
          signal,
        );
      } else if (challenge?.scheme === 'basic') {
        const cred = await this.#opts.credentials?.(reg.settings.host);
        if (cred)
          res = await this.#fetchRetrying(reg, url, { ...headers, authorization: basicHeader(cred) }, signal);
      }
    }
    if (res.ok) return res;
    await res.body?.cancel();
    const what = `${url.pathname}`;
    if (res.status === 404) throw new RegistryError('not-found', `${what}: not found`, 404);
    if (res.status === 401)
      throw new RegistryError('unauthorized', `${what}: authentication required or refused`, 401);
    if (res.status === 403) throw new RegistryError('denied', `${what}: access denied`, 403);
    throw new RegistryError(
      res.status >= 500 || res.status === 429 ? 'unreachable' : 'protocol',
      `${what}: HTTP ${res.status}`,
      res.status,
    );
  }

  async #fetchToken(
    reg: Resolved,
    params: Record<string, string>,
    scope: string,
    signal?: AbortSignal,
  ): Promise<{ token: string; expires: number }> {
    if (!params.realm) throw new RegistryError('protocol', 'bearer challenge without a realm');
    const realm = new URL(params.realm);
    const url = new URL(realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', scope);
    const headers: Record<string, string> = {};
    const cred = await this.#opts.credentials?.(reg.settings.host);
    if (cred) headers.authorization = basicHeader(cred);
    this.stats.tokenFetches++;
    const res = await this.#fetchRetrying(reg, url, headers, signal);
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw new RegistryError(
        res.status === 401 ? 'unauthorized' : 'denied',
        `token service refused ${scope}`,
      );
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new RegistryError('unreachable', `token service: HTTP ${res.status}`, res.status);
    }
    const body = parseJson(await readCapped(res, 64 * 1024), 'token') as {
      token?: unknown;
      access_token?: unknown;
      expires_in?: unknown;
    };
    const token = typeof body.token === 'string' ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '')
      throw new RegistryError('protocol', 'token service sent no token');
    const ttl = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    return { token, expires: Date.now() + (ttl - 5) * 1000 };
  }

  async #fetchRetrying(
    reg: Resolved,
    url: URL,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      if (!reg.hosts.has(url.host))
        throw new RegistryError(
          'not-allowed',
          `refusing to contact ${url.host}: not allowed for ${reg.settings.host}`,
        );
      const timeout = AbortSignal.timeout(reg.settings.timeoutMs);
      const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
      let res: Response;
      try {
        this.stats.requests++;
        res = await fetch(url, { headers, signal: combined, redirect: 'manual' });
      } catch (err) {
        signal?.throwIfAborted();
        const timedOut = timeout.aborted;
        if (attempt < reg.settings.retries) {
          this.stats.retries++;
          await delay(this.#backoff(attempt), signal);
          continue;
        }
        throw new RegistryError(
          timedOut ? 'timeout' : 'unreachable',
          `${reg.settings.host}: ${timedOut ? `no answer within ${reg.settings.timeoutMs} ms` : causeOf(err)}`,
        );
      }
      if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
        await res.body?.cancel();
        url = new URL(res.headers.get('location') as string, url);
        if (url.host !== reg.base.host) delete headers.authorization;
        if (attempt >= 5) throw new RegistryError('protocol', 'too many redirects');
        continue;
      }
      if ((res.status === 429 || res.status >= 500) && attempt < reg.settings.retries) {
        const wait = retryAfter(res.headers.get('retry-after')) ?? this.#backoff(attempt);
        await res.body?.cancel();
        if (wait > (this.#opts.maxRetryAfterMs ?? 30_000)) {
          throw new RegistryError(
            'unreachable',
            `${reg.settings.host}: asked to retry after ${Math.round(wait / 1000)} s`,
            res.status,
          );
        }
        this.stats.retries++;
        await delay(wait, signal);
        continue;
      }
      return res;
    }
  }

  #backoff(attempt: number): number {
    return (this.#opts.retryBaseMs ?? 200) * 2 ** attempt;
  }
}

function ensureSlash(u: URL): URL {
  return u.pathname.endsWith('/') ? u : new URL(`${u.href}/`);
}

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    const v = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v;
  } catch (err) {
    throw new RegistryError('protocol', `${what} is not valid JSON: ${(err as Error).message}`);
  }
}

async function readCapped(res: Response, max: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > max) {
    await res.body?.cancel();
    throw new RegistryError('too-large', `response of ${declared} bytes exceeds the ${max}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body ?? []) {
    total += chunk.length;
    if (total > max) throw new RegistryError('too-large', `response exceeds the ${max}-byte limit`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** Seconds or an HTTP date, as RFC 9110 allows; undefined when absent or unreadable. */
export function retryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function causeOf(err: unknown): string {
  const e = err as { cause?: { code?: string; message?: string }; message?: string };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
