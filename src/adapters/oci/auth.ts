import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/** A registry login: user and secret (password or token), never logged. */
export type Credential = { username: string; secret: string };

/** Finds the credential for a registry host; undefined means an anonymous pull. */
export type CredentialSource = (host: string) => Promise<Credential | undefined>;

type DockerConfig = {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
};

/** `https://index.docker.io/v1/` and `ghcr.io` both name a host; docker.io logins are stored under index.docker.io. */
export function normaliseHost(key: string): string {
  const host = key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/**
 * Credentials from a Docker `config.json`: inline `auths` entries, and `credHelpers`/`credsStore` programs
 * (`docker-credential-<name> get`, host on stdin), exactly as the docker CLI reads them. Read once, lazily.
 */
export function dockerConfigCredentials(
  path: string,
  runHelper: (helper: string, host: string) => Promise<string> = runCredentialHelper,
): CredentialSource {
  let loaded: Promise<DockerConfig | undefined> | undefined;
  const load = () => {
    loaded ??= readFile(path, 'utf8').then(
      (text) => JSON.parse(text) as DockerConfig,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      },
    );
    return loaded;
  };
  return async (host) => {
    const config = await load();
    if (!config) return undefined;
    const wanted = normaliseHost(host);
    const helper =
      Object.entries(config.credHelpers ?? {}).find(([k]) => normaliseHost(k) === wanted)?.[1] ??
      config.credsStore;
    const entry = Object.entries(config.auths ?? {}).find(([k]) => normaliseHost(k) === wanted)?.[1];
    if (entry?.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0) return { username: decoded.slice(0, i), secret: decoded.slice(i + 1) };
    }
    if (entry?.username && entry.password) return { username: entry.username, secret: entry.password };
    if (entry?.identitytoken) return { username: '<token>', secret: entry.identitytoken };
    if (helper) {
      const out = JSON.parse(await runHelper(helper, host)) as { Username?: string; Secret?: string };
      if (typeof out.Username === 'string' && typeof out.Secret === 'string')
        return { username: out.Username, secret: out.Secret };
    }
    return undefined;
  };
}

function runCredentialHelper(helper: string, host: string): Promise<string> {
  if (!/^[a-z0-9_.-]+$/i.test(helper))
    return Promise.reject(new Error(`bad credential helper name ${helper}`));
  return new Promise((resolve, reject) => {
    const child = execFile(`docker-credential-${helper}`, ['get'], { timeout: 10_000 }, (err, stdout) =>
      err ? reject(new Error(`credential helper ${helper} failed: ${err.message}`)) : resolve(stdout),
    );
    child.stdin?.end(host);
  });
}

/** Tries each source in order (per-registry settings first, then the Docker config). */
export function firstCredential(...sources: CredentialSource[]): CredentialSource {
  return async (host) => {
    for (const s of sources) {
      const c = await s(host);
      if (c) return c;
    }
    return undefined;
  };
}

/** One `WWW-Authenticate` challenge: scheme plus its parameters (realm, service, scope…). */
export type Challenge = { scheme: string; params: Record<string, string> };

/** Parses `Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull"`. */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g;
  for (const p of (m[2] ?? '').matchAll(re)) {
    params[(p[1] as string).toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return { scheme: (m[1] as string).toLowerCase(), params };
}

export function basicHeader(c: Credential): string {
  return `Basic ${Buffer.from(`${c.username}:${c.secret}`).toString('base64')}`;
}
