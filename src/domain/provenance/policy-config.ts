import { z } from 'zod';
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
    /** Refresh the public-good root through TUF at start (needs network); off by default. */
    tufRefresh: z.boolean().default(false),
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
