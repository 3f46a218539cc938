import { z } from 'zod';

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

const feedSchema = z
  .object({
    name: z.string().regex(NAME, 'lowercase letters, digits, ".", "_" or "-"'),
    /** osv: OSV records (MAL-…, GHSA-…); ioc: IOC lists (JSON or CSV, docs/CONFIGURATION.md). */
    kind: z.enum(['osv', 'ioc']),
    /** A directory or a file (.json, .csv, .zip) … */
    path: z.string().min(1).optional(),
    /** … or an https:// URL of a JSON, CSV or zip file (host must be in advisories.allowedHosts). */
    url: z.string().url().optional(),
    intervalSeconds: z
      .number()
      .int()
      .min(10)
      .max(7 * 86_400)
      .default(3600),
    enabled: z.boolean().default(true),
    /** Largest download accepted, in MB (zip: compressed size). */
    maxMegabytes: z.number().int().min(1).max(4096).default(512),
  })
  .strict()
  .refine((f) => (f.path === undefined) !== (f.url === undefined), {
    message: 'set exactly one of path or url',
  });

const sbomFileSchema = z
  .object({
    digest: z.string().regex(DIGEST, 'sha256: followed by 64 lowercase hex digits').optional(),
    repository: z.string().min(1).optional(),
    path: z.string().min(1),
  })
  .strict()
  .refine((s) => (s.digest === undefined) !== (s.repository === undefined), {
    message: 'set exactly one of digest or repository',
  });

/** `advisories:` in the configuration file (referenced from src/config.ts). */
export const advisoriesSchema = z
  .object({
    feeds: z.array(feedSchema).default([]),
    /** Hosts (host or host:port) feed URLs may point at; every fetch and redirect is checked against it. */
    allowedHosts: z
      .array(z.string().regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'a host name, optionally :port'))
      .default([]),
    /** Allow http:// to 127.0.0.1 / localhost hosts in allowedHosts (tests and local mirrors only). */
    allowLoopbackHttp: z.boolean().default(false),
    /** SBOM files for images, by digest (exact) or repository (any tag). */
    sboms: z.array(sbomFileSchema).default([]),
    /** How often the inventory is re-matched against all advisories (a new deployment alerts within this). */
    rematchSeconds: z.number().int().min(5).max(86_400).default(60),
  })
  .strict()
  .superRefine((a, ctx) => {
    const names = new Set<string>();
    a.feeds.forEach((f, i) => {
      if (names.has(f.name))
        ctx.addIssue({
          code: 'custom',
          path: ['feeds', i, 'name'],
          message: `duplicate feed name "${f.name}"`,
        });
      names.add(f.name);
      if (f.url !== undefined) {
        const why = checkFeedUrl(f.url, a);
        if (why) ctx.addIssue({ code: 'custom', path: ['feeds', i, 'url'], message: why });
      }
    });
  })
  .default({ feeds: [], allowedHosts: [], allowLoopbackHttp: false, sboms: [], rematchSeconds: 60 });

export type AdvisoriesConfig = z.infer<typeof advisoriesSchema>;
export type FeedConfig = AdvisoriesConfig['feeds'][number];

/** Why an outbound feed URL is refused, or undefined when the allow-list permits it. */
export function checkFeedUrl(
  url: string,
  policy: { allowedHosts: readonly string[]; allowLoopbackHttp: boolean },
): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (u.username || u.password) return 'credentials in feed URLs are not allowed';
  const loopback = u.hostname === '127.0.0.1' || u.hostname === 'localhost' || u.hostname === '[::1]';
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback && policy.allowLoopbackHttp)) {
    return 'feed URLs must use https:// (http:// only to loopback with allowLoopbackHttp)';
  }
  if (!policy.allowedHosts.includes(u.host) && !policy.allowedHosts.includes(u.hostname)) {
    return `host ${u.host} is not in advisories.allowedHosts`;
  }
  return undefined;
}
