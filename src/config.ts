import { readFileSync } from 'node:fs';
import { loadAll as loadYamlDocuments } from 'js-yaml';
import { z } from 'zod';
import { AWS_CONFIG_DEFAULT, awsConfigSchema } from './adapters/aws/config.ts';
import { advisoriesSchema } from './adapters/feeds/config.ts';
import { actionsConfigSchema } from './domain/actions/approval-config.ts';
import { provenanceSchema } from './domain/provenance/policy-config.ts';
import { apiUrlProblem, DEFAULT_RESPONSE_URL_HOSTS } from './domain/slack/urls.ts';
import { ScopeError } from './errors.ts';
import { auditConfigSchema } from './store/audit/audit-config.ts';
import { redisSentinelSchema, redisTlsSchema } from './store/redis-settings.ts';

/** Old-generation heap limit of the collector's thread (MB); see docs/PERFORMANCE.md, collector memory. */
const COLLECTOR_HEAP_MB = 192;

const clusterSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lowercase letters, digits, ".", "_" or "-"'),
    environment: z.string().min(1).default('unknown'),
    kubeconfig: z.string().min(1).optional(),
    context: z.string().min(1).optional(),
    inCluster: z.boolean().default(false),
    timeoutSeconds: z.number().positive().max(300).default(20),
    /** Separate credentials for approved actions (deploy/kubernetes/rbac-actor.yaml); the reader's otherwise. */
    actor: z
      .object({ kubeconfig: z.string().min(1), context: z.string().min(1).optional() })
      .strict()
      .optional(),
  })
  .strict()
  .refine((c) => c.inCluster || c.kubeconfig !== undefined, {
    message: 'set either kubeconfig (path) or inCluster: true',
  });

const schema = z
  .object({
    slack: z
      .object({
        mode: z.enum(['http', 'socket']).default('http'),
        botToken: z
          .string()
          .regex(/^xoxb-/, 'a bot token starts with xoxb-')
          .optional(),
        signingSecret: z.string().min(8).optional(),
        appToken: z
          .string()
          .regex(/^xapp-/, 'an app-level token starts with xapp-')
          .optional(),
        port: z.number().int().min(0).max(65535).default(3000),
        host: z.string().default('0.0.0.0'),
        apiUrl: z
          .string()
          .url()
          .superRefine((u, ctx) => {
            const problem = apiUrlProblem(u);
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          })
          .optional(),
        // Where a response_url may point (https only); loopback only with allowLoopback (tests and the demo).
        responseUrlHosts: z
          .array(z.string().regex(/^[a-z0-9.-]+$/, 'a host name such as hooks.slack.com'))
          .min(1)
          .default([...DEFAULT_RESPONSE_URL_HOSTS]),
        allowLoopback: z.boolean().default(false),
      })
      .strict()
      .default({
        mode: 'http',
        port: 3000,
        host: '0.0.0.0',
        responseUrlHosts: [...DEFAULT_RESPONSE_URL_HOSTS],
        allowLoopback: false,
      }),
    redis: z
      .object({
        url: z.string().default('redis://127.0.0.1:6379'),
        username: z.string().min(1).optional(),
        password: z.string().optional(),
        tls: redisTlsSchema.optional(),
        sentinel: redisSentinelSchema.optional(),
        prefix: z
          .string()
          .regex(/^\{[A-Za-z0-9_-]+\}$/, 'a Redis Cluster hash tag such as "{scope}"')
          .default('{scope}'),
      })
      .strict()
      .default({ url: 'redis://127.0.0.1:6379', prefix: '{scope}' }),
    worker: z
      .object({
        concurrency: z.number().int().min(1).max(64).default(4),
        attempts: z.number().int().min(1).max(20).default(4),
        backoffMs: z.number().int().min(10).default(1000),
        lockDurationMs: z.number().int().min(1000).default(30_000),
        stalledIntervalMs: z.number().int().min(500).default(30_000),
      })
      .strict()
      .default({
        concurrency: 4,
        attempts: 4,
        backoffMs: 1000,
        lockDurationMs: 30_000,
        stalledIntervalMs: 30_000,
      }),
    clusters: z.array(clusterSchema).default([]),
    aws: awsConfigSchema.default(AWS_CONFIG_DEFAULT),
    access: z
      .object({
        allowedChannels: z.array(
          z.string().regex(/^([CGD][A-Z0-9]+|\*)$/, 'a channel id such as C0123ABCD, or "*"'),
        ),
        approvers: z
          .object({
            users: z.array(z.string().regex(/^[UW][A-Z0-9]+$/, 'a user id such as U0123ABCD')).default([]),
            usergroups: z
              .array(z.string().regex(/^S[A-Z0-9]+$/, 'a user group id such as S0123ABCD'))
              .default([]),
          })
          .strict()
          .default({ users: [], usergroups: [] }),
      })
      .strict()
      .default({ allowedChannels: ['*'], approvers: { users: [], usergroups: [] } }),
    inventory: z
      .object({
        collect: z.boolean().default(true),
        historyDays: z.number().int().min(1).max(3650).default(90),
        resyncMinutes: z.number().int().min(1).default(30),
        pageSize: z.number().int().min(10).max(5000).default(500),
        clusterParallelism: z.number().int().min(1).max(64).default(2),
        collectorHeapMb: z.number().int().min(64).max(65_536).default(COLLECTOR_HEAP_MB),
      })
      .strict()
      .default({
        collect: true,
        historyDays: 90,
        resyncMinutes: 30,
        pageSize: 500,
        clusterParallelism: 2,
        collectorHeapMb: COLLECTOR_HEAP_MB,
      }),
    http: z
      .object({
        port: z.number().int().min(0).max(65535).default(9464),
        host: z.string().default('0.0.0.0'),
      })
      .strict()
      .default({ port: 9464, host: '0.0.0.0' }),
    advisories: advisoriesSchema,
    actions: actionsConfigSchema,
    provenance: provenanceSchema,
    log: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      })
      .strict()
      .default({ level: 'info' }),
    audit: auditConfigSchema,
  })
  .strict();

/** The whole validated configuration; the only place env and files are read. */
export type Config = z.infer<typeof schema>;
export type ClusterConfig = Config['clusters'][number];

/** Environment variables that override file values: secrets belong here, not in the file. */
export const ENV_OVERRIDES: ReadonlyArray<{
  env: string;
  path: readonly string[];
  type?: 'number' | 'list' | 'boolean';
}> = [
  { env: 'SCOPE_SLACK_BOT_TOKEN', path: ['slack', 'botToken'] },
  { env: 'SCOPE_SLACK_SIGNING_SECRET', path: ['slack', 'signingSecret'] },
  { env: 'SCOPE_SLACK_APP_TOKEN', path: ['slack', 'appToken'] },
  { env: 'SCOPE_SLACK_MODE', path: ['slack', 'mode'] },
  { env: 'SCOPE_SLACK_PORT', path: ['slack', 'port'], type: 'number' },
  { env: 'SCOPE_SLACK_API_URL', path: ['slack', 'apiUrl'] },
  { env: 'SCOPE_SLACK_RESPONSE_URL_HOSTS', path: ['slack', 'responseUrlHosts'], type: 'list' },
  { env: 'SCOPE_REDIS_URL', path: ['redis', 'url'] },
  { env: 'SCOPE_WORKER_CONCURRENCY', path: ['worker', 'concurrency'], type: 'number' },
  { env: 'SCOPE_ALLOWED_CHANNELS', path: ['access', 'allowedChannels'], type: 'list' },
  { env: 'SCOPE_HTTP_PORT', path: ['http', 'port'], type: 'number' },
  { env: 'SCOPE_INVENTORY_COLLECT', path: ['inventory', 'collect'], type: 'boolean' },
  { env: 'SCOPE_REDIS_SENTINEL_PASSWORD', path: ['redis', 'sentinel', 'password'] },
  { env: 'SCOPE_REDIS_SENTINEL_USERNAME', path: ['redis', 'sentinel', 'username'] },
  { env: 'SCOPE_REDIS_USERNAME', path: ['redis', 'username'] },
  { env: 'SCOPE_REDIS_PASSWORD', path: ['redis', 'password'] },
  { env: 'SCOPE_LOG_LEVEL', path: ['log', 'level'] },
  { env: 'SCOPE_AUDIT_KEY', path: ['audit', 'hmacSecret'] },
  { env: 'SCOPE_AUDIT_WITNESS_FILE', path: ['audit', 'witnessFile'] },
  { env: 'SCOPE_AUDIT_WITNESS_CHANNEL', path: ['audit', 'witnessChannel'] },
  { env: 'SCOPE_AWS_REGIONS', path: ['aws', 'regions'], type: 'list' },
];

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/** Validates raw configuration (already merged with env) and reports every problem with its key path. */
export function parseConfig(raw: unknown, source = 'configuration'): Config {
  const result = schema.safeParse(raw ?? {});
  if (!result.success) {
    const lines = result.error.issues.map(
      (i) => `  - ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`,
    );
    throw new ScopeError('CONFIG_INVALID', `invalid ${source}:\n${lines.join('\n')}`);
  }
  const config = result.data;
  const names = new Set<string>();
  for (const c of config.clusters) {
    if (names.has(c.name))
      throw new ScopeError('CONFIG_INVALID', `invalid ${source}:\n  - clusters: duplicate name "${c.name}"`);
    names.add(c.name);
  }
  return deepFreeze(config);
}

/** Reads the YAML file named by SCOPE_CONFIG (if any), applies env overrides, validates. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, file = env.SCOPE_CONFIG): Config {
  let raw: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ScopeError('CONFIG_INVALID', `cannot read config file ${file}: ${(err as Error).message}`);
    }
    try {
      // js-yaml 5 throws on a file with no document (empty, or only comments); that means "no settings".
      const docs = loadYamlDocuments(text);
      if (docs.length > 1) throw new Error('expected a single document in the stream, but found more');
      raw = (docs[0] as Record<string, unknown> | null | undefined) ?? {};
    } catch (err) {
      throw new ScopeError('CONFIG_INVALID', `config file ${file} is not valid YAML: ${yamlReason(err)}`);
    }
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ScopeError('CONFIG_INVALID', `config file ${file} must hold a YAML mapping at the top level`);
    }
  }
  for (const o of ENV_OVERRIDES) {
    const v = env[o.env];
    if (v === undefined || v === '') continue;
    const value =
      o.type === 'number'
        ? Number(v)
        : o.type === 'boolean'
          ? parseBoolean(o.env, v)
          : o.type === 'list'
            ? v
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean)
            : v;
    setPath(raw, o.path, value);
  }
  return parseConfig(raw, file ? `config file ${file}` : 'configuration');
}

/**
 * js-yaml's message carries a code frame with the lines around the error, which may hold tokens and secrets:
 * keep only the reason and the position.
 */
function yamlReason(err: unknown): string {
  const e = err as { name?: unknown; reason?: unknown; mark?: { line?: unknown; column?: unknown } };
  if (e.name !== 'YAMLException') return (err as Error).message;
  const reason = typeof e.reason === 'string' ? e.reason.slice(0, 200) : 'syntax error';
  const line = typeof e.mark?.line === 'number' ? e.mark.line + 1 : undefined;
  const column = typeof e.mark?.column === 'number' ? e.mark.column + 1 : undefined;
  return line === undefined ? reason : `${reason} at line ${line}, column ${column}`;
}

function parseBoolean(name: string, v: string): boolean {
  if (/^(true|1|yes|on)$/i.test(v)) return true;
  if (/^(false|0|no|off)$/i.test(v)) return false;
  throw new ScopeError('CONFIG_INVALID', `${name} must be true or false, not "${v.slice(0, 20)}"`);
}

/** Checks what the bot process needs beyond the schema, so it fails at start and not on the first request. */
export function requireSlackCredentials(config: Config): void {
  const missing: string[] = [];
  if (!config.slack.botToken) missing.push('slack.botToken (env SCOPE_SLACK_BOT_TOKEN)');
  if (config.slack.mode === 'http' && !config.slack.signingSecret)
    missing.push('slack.signingSecret (env SCOPE_SLACK_SIGNING_SECRET)');
  if (config.slack.mode === 'socket' && !config.slack.appToken)
    missing.push('slack.appToken (env SCOPE_SLACK_APP_TOKEN)');
  if (missing.length)
    throw new ScopeError('CONFIG_INVALID', `missing Slack settings:\n  - ${missing.join('\n  - ')}`);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
