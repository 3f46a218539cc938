import { z } from 'zod';
import { isLoopbackHost } from '../slack/urls.ts';
import { buildPolicy, globToRegExp, type ProvenancePolicy } from './policy.ts';

const HOST = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/;
const REPO_GLOB = /^[a-z0-9*?]([a-z0-9._\-/*?:]*)$/;

const keySchema = z
  .object({
    name: z.string().min(1).max(100),
    pem: z.string().includes('-----BEGIN PUBLIC KEY-----', { message: 'a PEM public key' }).optional(),
    path: z.string().min(1).optional(),
  })
  .strict()
  .refine((k) => (k.pem === undefined) !== (k.path === undefined), {
    message: 'set exactly one of pem or path',
  });

const githubSchema = z
  .object({
    repository: z.string().min(1).optional(),
    ref: z.string().min(1).optional(),
    workflow: z.string().min(1).optional(),
    trigger: z.string().min(1).optional(),
    sha: z.string().min(1).optional(),
  })
  .strict();

const identitySchema = z
  .object({
    identity: z.string().min(1).optional(),
    identityRegexp: z.string().min(1).optional(),
    issuer: z.string().url(),
    github: githubSchema.optional(),
  })
  .strict()
  .refine((i) => (i.identity === undefined) !== (i.identityRegexp === undefined), {
    message: 'set exactly one of identity (exact) or identityRegexp (anchored)',
  })
  .refine(
    (i) => {
      if (i.identityRegexp === undefined) return true;
      try {
        new RegExp(i.identityRegexp);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'identityRegexp is not a valid regular expression' },
  );

const ruleSchema = z
  .object({
    name: z.string().min(1).max(100),
    match: z.array(z.string().regex(REPO_GLOB, 'a glob over registry/repository')).min(1),
    keys: z.array(keySchema).default([]),
    keyless: z.array(identitySchema).default([]),
    requireTlog: z.boolean().default(true),
    requireSignedTimestamp: z.boolean().default(false),
    signatureRepository: z
      .string()
      .regex(/^[a-z0-9.:-]+\/[a-z0-9._\-/]+$/, 'registry/repository')
      .optional(),
  })
  .strict()
  .refine((r) => r.keys.length + r.keyless.length > 0, {
    message: 'trust at least one key or keyless identity',
  });

const registrySchema = z
  .object({
    host: z.string().regex(HOST, 'a registry host such as ghcr.io or localhost:5000'),
    endpoint: z.string().url().optional(),
    extraHosts: z.array(z.string().regex(HOST)).optional(),
    concurrency: z.number().int().min(1).max(64).default(8),
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    retries: z.number().int().min(0).max(10).default(3),
    username: z.string().min(1).optional(),
    /** Name of the environment variable holding the password or token (secrets stay out of the file). */
    passwordEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/)
      .optional(),
  })
  .strict();

/** `provenance:` in the configuration: registries scope may contact, trust material, and the signer policy. */
export const provenanceSchema = z
  .object({
    registries: z.array(registrySchema).default([]),
    dockerConfig: z.string().min(1).optional(),
    /** A trusted_root.json (private Sigstore, air-gapped); default: the public-good root shipped with scope. */
    trustedRoot: z.string().min(1).optional(),
    /** Refresh the public-good root through TUF (worker: at start, then every tufRefreshHours); off by default. */
    tufRefresh: z.boolean().default(false),
    /** The TUF repository (default https://tuf-repo-cdn.sigstore.dev); https, http only to loopback. */
    tufMirrorUrl: z.string().min(1).optional(),
    /** The initial (trusted) root.json of that repository; needed for any mirror but the default one. */
    tufInitialRoot: z.string().min(1).optional(),
    /** Where TUF metadata is kept between refreshes (rollback protection); default <tmpdir>/scope-tuf. */
    tufCacheDir: z.string().min(1).optional(),
    tufRefreshHours: z
      .number()
      .min(0.1)
      .max(24 * 7)
      .optional(),
    cacheTtlSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .default(3600),
    rules: z.array(ruleSchema).default([]),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const issue of tufProblems(p)) ctx.addIssue({ code: 'custom', ...issue });
    const hosts = new Set<string>();
    for (const [i, r] of p.registries.entries()) {
      if (hosts.has(r.host))
        ctx.addIssue({ code: 'custom', path: ['registries', i, 'host'], message: `duplicate ${r.host}` });
      hosts.add(r.host);
    }
    for (const [i, r] of p.rules.entries()) {
      for (const g of r.match) {
        try {
          globToRegExp(g);
        } catch {
          ctx.addIssue({ code: 'custom', path: ['rules', i, 'match'], message: `bad glob ${g}` });
        }
      }
    }
  })
  .default({ registries: [], tufRefresh: false, cacheTtlSeconds: 3600, rules: [] });

export type ProvenanceConfig = z.infer<typeof provenanceSchema>;

/** The public-good Sigstore TUF repository; `@sigstore/tuf` ships its initial root. */
export const DEFAULT_TUF_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';
export const DEFAULT_TUF_REFRESH_HOURS = 24;

const TUF_KEYS = ['tufMirrorUrl', 'tufInitialRoot', 'tufCacheDir', 'tufRefreshHours'] as const;

/** Why the TUF settings cannot work together; each names its key. */
function tufProblems(p: {
  trustedRoot?: string | undefined;
  tufRefresh: boolean;
  tufMirrorUrl?: string | undefined;
  tufInitialRoot?: string | undefined;
  tufCacheDir?: string | undefined;
  tufRefreshHours?: number | undefined;
}): Array<{ path: string[]; message: string }> {
  const out: Array<{ path: string[]; message: string }> = [];
  if (p.tufMirrorUrl !== undefined) {
    const problem = tufMirrorProblem(p.tufMirrorUrl);
    if (problem) out.push({ path: ['tufMirrorUrl'], message: problem });
  }
  if (!p.tufRefresh) {
    for (const k of TUF_KEYS)
      if (p[k] !== undefined)
        out.push({ path: [k], message: `${k} is set but tufRefresh is false: it would do nothing` });
    return out;
  }
  if (p.trustedRoot !== undefined)
    out.push({
      path: ['tufRefresh'],
      message:
        'tufRefresh refreshes the public-good root; it cannot be combined with a custom trustedRoot (set one or the other)',
    });
  const mirror = (p.tufMirrorUrl ?? DEFAULT_TUF_MIRROR).replace(/\/+$/, '');
  if (mirror !== DEFAULT_TUF_MIRROR && p.tufInitialRoot === undefined)
    out.push({
      path: ['tufInitialRoot'],
      message: `the mirror ${mirror} is not the public-good one: set tufInitialRoot to its trusted root.json`,
    });
  return out;
}

/**
 * Why scope may not fetch TUF metadata from this URL, or undefined. TUF signs what it serves, but https still
 * keeps the refresh private and hard to stall; plain http only to loopback (tests), no credentials in the URL.
 */
export function tufMirrorProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a URL';
  }
  if (url.username || url.password) return 'credentials in the mirror URL are not allowed';
  if (url.search || url.hash) return 'the mirror URL takes no query or fragment';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  return url.protocol === 'http:'
    ? `plain http to ${url.hostname}: the mirror must use https (http only to loopback)`
    : `scheme ${url.protocol.replace(/:$/, '')} (https only)`;
}

/** The policy as the verifier uses it; key files are read by the adapter (`loadTrustedKeys`). */
export function policyFromConfig(p: ProvenanceConfig, keyPem: (path: string) => string): ProvenancePolicy {
  return buildPolicy(
    p.rules.map((r) => ({
      name: r.name,
      match: r.match,
      keys: r.keys.map((k) => ({ name: k.name, pem: k.pem ?? keyPem(k.path as string) })),
      keyless: r.keyless.map((i) => ({
        issuer: i.issuer,
        ...(i.identity !== undefined ? { identity: i.identity } : {}),
        ...(i.identityRegexp !== undefined ? { identityRegexp: i.identityRegexp } : {}),
        ...(i.github ? { github: i.github } : {}),
      })),
      requireTlog: r.requireTlog,
      requireSignedTimestamp: r.requireSignedTimestamp,
      ...(r.signatureRepository ? { signatureRepository: r.signatureRepository } : {}),
    })),
    p.registries.map((r) => r.host),
  );
}
