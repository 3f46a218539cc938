import { readFileSync } from 'node:fs';
import type { RedisOptions } from 'ioredis';
import { z } from 'zod';
import { ScopeError } from '../errors.ts';

/** TLS to Redis or its Sentinels with a private CA (and optionally a client certificate for mutual TLS). */
export const redisTlsSchema = z
  .object({
    /** PEM file of the CA that signed the server certificate (a private CA); the system CAs otherwise. */
    caFile: z.string().min(1).optional(),
    /** Client certificate and key (PEM) when the server requires mutual TLS (tls-auth-clients yes). */
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    /** Name to verify in the server certificate when it differs from the host connected to. */
    servername: z.string().min(1).optional(),
  })
  .strict()
  .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
    message: 'set certFile and keyFile together',
  });

export const redisSentinelSchema = z
  .object({
    name: z.string(),
    sentinels: z.array(z.object({ host: z.string(), port: z.number().int() }).strict()).min(1),
    /** ACL user and password of the Sentinels themselves (sentinel's own requirepass / ACL). */
    username: z.string().min(1).optional(),
    password: z.string().optional(),
    /** TLS to the Sentinels; the data nodes use redis.tls. */
    tls: redisTlsSchema.optional(),
  })
  .strict();

export type RedisTls = z.infer<typeof redisTlsSchema>;
export type RedisSettings = {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  tls?: RedisTls | undefined;
  sentinel?: z.infer<typeof redisSentinelSchema> | undefined;
};

type ReadFile = (path: string) => Buffer;

function tlsOptions(t: RedisTls, read: ReadFile, what: string): NonNullable<RedisOptions['tls']> {
  const load = (path: string, label: string): Buffer => {
    try {
      return read(path);
    } catch (err) {
      throw new ScopeError(
        'CONFIG_INVALID',
        `cannot read ${what} ${label} ${path}: ${(err as Error).message}`,
      );
    }
  };
  return {
    // Certificates are always verified; there is deliberately no setting to turn that off.
    rejectUnauthorized: true,
    ...(t.caFile ? { ca: load(t.caFile, 'CA file') } : {}),
    ...(t.certFile ? { cert: load(t.certFile, 'client certificate') } : {}),
    ...(t.keyFile ? { key: load(t.keyFile, 'client key') } : {}),
    ...(t.servername ? { servername: t.servername } : {}),
  };
}

/**
 * ioredis options for the configured Redis: a URL (redis:// or rediss://) or Sentinels, each with optional ACL
 * user, password and TLS. Explicit settings override what the URL says.
 */
export function redisConnectionOptions(
  r: RedisSettings,
  base: RedisOptions,
  read: ReadFile = (p) => readFileSync(p),
): { url?: string; options: RedisOptions } {
  const auth: RedisOptions = {
    ...(r.username ? { username: r.username } : {}),
    ...(r.password ? { password: r.password } : {}),
  };
  const tls = r.tls ? { tls: tlsOptions(r.tls, read, 'redis.tls') } : {};
  const s = r.sentinel;
  if (s) {
    return {
      options: {
        ...base,
        sentinels: s.sentinels,
        name: s.name,
        // Before redis.password existed, the Sentinel password was used for the data nodes too: keep that.
        ...(r.password ? {} : s.password ? { password: s.password } : {}),
        ...auth,
        ...(s.username ? { sentinelUsername: s.username } : {}),
        ...(s.password ? { sentinelPassword: s.password } : {}),
        // ioredis applies `tls` to the data nodes in Sentinel mode only with enableTLSForSentinelMode.
        ...(r.tls ? { ...tls, enableTLSForSentinelMode: true } : {}),
        ...(s.tls ? { sentinelTLS: tlsOptions(s.tls, read, 'redis.sentinel.tls') } : {}),
      },
    };
  }
  return { url: r.url, options: { ...base, ...auth, ...tls } };
}
