import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { DigestVerification } from '../../domain/provenance/outcome.ts';

const signer = z.union([
  z.object({ kind: z.literal('key'), key: z.string() }),
  z.object({
    kind: z.literal('keyless'),
    identity: z.string(),
    issuer: z.string(),
    github: z.record(z.string(), z.string()).optional(),
  }),
]);
const path = z.enum(['referrers-api', 'referrers-tag', 'cosign-sig', 'cosign-att']);
const outcome = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('verified'),
    signer,
    via: z.object({
      form: z.enum(['sigstore-bundle', 'cosign-signature', 'cosign-attestation']),
      content: z.enum(['message-signature', 'dsse']),
      path,
      repository: z.string(),
      reference: z.string(),
      onIndex: z.string().optional(),
      tlog: z.boolean(),
      signedTimestamp: z.boolean(),
    }),
  }),
  z.object({ status: z.literal('unsigned'), reason: z.string() }),
  z.object({ status: z.literal('invalid'), reason: z.string() }),
  z.object({ status: z.literal('untrusted'), reason: z.string(), signers: z.array(signer) }),
  z.object({ status: z.literal('unknown-registry'), reason: z.string() }),
]);
const verification = z.object({
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  repository: z.string(),
  outcome,
  attempts: z.array(
    z.object({
      path,
      repository: z.string(),
      reference: z.string(),
      result: z.enum(['found', 'none', 'unsupported', 'denied', 'error', 'skipped']),
      artifacts: z.number().int(),
      detail: z.string().optional(),
      onIndex: z.string().optional(),
    }),
  ),
  candidates: z.array(
    z.object({
      path,
      reference: z.string(),
      verdict: z.enum(['verified', 'invalid', 'untrusted']),
      reason: z.string(),
      signer: signer.optional(),
    }),
  ),
  manifestKind: z.enum(['index', 'image']).optional(),
  parentIndex: z.string().optional(),
  policy: z.object({ name: z.string(), version: z.string() }),
  checkedAt: z.string(),
});

/** Where cached verifications are read and written; the Redis cache implements it. */
export type VerificationCachePort = {
  getMany: (
    policyVersion: string,
    items: ReadonlyArray<{ repository: string; digest: string }>,
  ) => Promise<Array<DigestVerification | undefined>>;
  putMany: (policyVersion: string, results: readonly DigestVerification[]) => Promise<void>;
};

/**
 * Verification results per (policy version, repository, digest) with a TTL. The policy version is part of the
 * key, so changing the policy makes every earlier result unreachable; entries are validated on read and a bad
 * one counts as a miss. Errors (registry down, access denied) are not cached: they are worth retrying.
 */
export class VerificationCache implements VerificationCachePort {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttl: number;
  constructor(redis: Redis, prefix: string, ttlSeconds: number) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#ttl = ttlSeconds;
  }

  #key(version: string, repository: string, digest: string): string {
    return `${this.#prefix}:prov:${version}:${digest}:${repository}`;
  }

  async getMany(
    policyVersion: string,
    items: ReadonlyArray<{ repository: string; digest: string }>,
  ): Promise<Array<DigestVerification | undefined>> {
    if (items.length === 0 || this.#ttl === 0) return items.map(() => undefined);
    const raw = await this.#redis.mget(...items.map((i) => this.#key(policyVersion, i.repository, i.digest)));
    return raw.map((text, i) => {
      if (text === null) return undefined;
      try {
        const v = verification.parse(JSON.parse(text));
        const item = items[i];
        if (
          v.digest !== item?.digest ||
          v.repository !== item.repository ||
          v.policy.version !== policyVersion
        )
          return undefined;
        return { ...(v as DigestVerification), cached: true };
      } catch {
        return undefined;
      }
    });
  }

  async putMany(policyVersion: string, results: readonly DigestVerification[]): Promise<void> {
    const cacheable = results.filter(
      (r) => r.outcome.status !== 'error' && r.policy.version === policyVersion,
    );
    if (cacheable.length === 0 || this.#ttl === 0) return;
    const tx = this.#redis.pipeline();
    for (const r of cacheable) {
      const { cached: _cached, ...stored } = r;
      tx.set(this.#key(policyVersion, r.repository, r.digest), JSON.stringify(stored), 'EX', this.#ttl);
    }
    await tx.exec();
  }
}
