import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import {
  observationKey,
  type SignerObservation,
  type SignerRecord,
  signerRecordOf,
} from '../../domain/advisories/signers.ts';
import type { DigestVerification } from '../../domain/provenance/outcome.ts';

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const ISO = z.string().datetime({ offset: true });

const signer = z.union([
  z.object({ kind: z.literal('key'), key: z.string().min(1).max(512) }).strict(),
  z
    .object({
      kind: z.literal('keyless'),
      identity: z.string().min(1).max(2048),
      issuer: z.string().min(1).max(2048),
      github: z.record(z.string(), z.string()).optional(),
    })
    .strict(),
]);
const observation = z
  .object({
    signer,
    path: z.enum(['referrers-api', 'referrers-tag', 'cosign-sig', 'cosign-att']),
    form: z.enum(['sigstore-bundle', 'cosign-signature', 'cosign-attestation']),
    repository: z.string().min(1).max(512),
    reference: z.string().min(1).max(512),
    onIndex: z.string().regex(DIGEST).optional(),
    cryptographic: z.boolean(),
    trusted: z.boolean(),
    seenAt: ISO,
  })
  .strict();
const checked = z.object({ checkedAt: ISO, complete: z.boolean() }).strict();

/** Records whenever a verification completes (in process, or in a fan-out chunk). */
export type SignerRecordWriter = { record: (results: readonly DigestVerification[]) => Promise<void> };
/** Reads what is known about who signed the given digests; digests without a record are absent. */
export type SignerRecordReader = {
  getMany: (digests: readonly string[]) => Promise<Map<string, SignerRecord>>;
};

/** Digests read per pipelined round trip. */
const BATCH = 500;
/** Fields read per digest at most (a digest signed many times over keeps the first ones, sorted). */
const MAX_FIELDS = 256;

/**
 * Who signed each digest, as verification saw it — durable, unlike the verification cache:
 *   prov-signers:{digest}   hash  `checked` → {checkedAt, complete} of the last verification;
 *                                 `o:{hash}` → one SignerObservation per signature (path, reference, signer)
 * Observations accumulate (a signature once made stays made); every write refreshes the key's TTL, the
 * inventory history window, so a record lives as long as the digest can count as past exposure. Everything
 * read back is validated; a bad field is dropped (and a record without a valid `checked` counts as partial).
 */
export class SignerRecords implements SignerRecordWriter, SignerRecordReader {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttl: number;

  constructor(redis: Redis, prefix: string, ttlSeconds: number) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#ttl = ttlSeconds;
  }

  #key(digest: string): string {
    return `${this.#prefix}:prov-signers:${digest}`;
  }

  async record(results: readonly DigestVerification[]): Promise<void> {
    const tx = this.#redis.pipeline();
    let n = 0;
    for (const r of results) {
      const rec = DIGEST.test(r.digest) ? signerRecordOf(r) : undefined;
      if (!rec) continue;
      const key = this.#key(rec.digest);
      const fields: string[] = [
        'checked',
        JSON.stringify({ checkedAt: rec.checkedAt, complete: rec.complete }),
      ];
      for (const o of rec.observations) fields.push(fieldOf(o), JSON.stringify(o));
      tx.hset(key, ...fields);
      tx.expire(key, this.#ttl);
      n++;
    }
    if (n) await tx.exec();
  }

  async getMany(digests: readonly string[]): Promise<Map<string, SignerRecord>> {
    const out = new Map<string, SignerRecord>();
    const valid = [...new Set(digests)].filter((d) => DIGEST.test(d));
    for (let i = 0; i < valid.length; i += BATCH) {
      const batch = valid.slice(i, i + BATCH);
      const tx = this.#redis.pipeline();
      for (const d of batch) tx.hgetall(this.#key(d));
      const replies = (await tx.exec()) ?? [];
      batch.forEach((digest, j) => {
        const [err, hash] = replies[j] ?? [];
        if (err || !hash || typeof hash !== 'object') return;
        const rec = parseRecord(digest, hash as Record<string, string>);
        if (rec) out.set(digest, rec);
      });
    }
    return out;
  }
}

function fieldOf(o: SignerObservation): string {
  return `o:${createHash('sha256').update(observationKey(o)).digest('hex').slice(0, 24)}`;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseRecord(digest: string, hash: Record<string, string>): SignerRecord | undefined {
  const names = Object.keys(hash);
  if (names.length === 0) return undefined;
  const c = checked.safeParse(parseJson(hash.checked));
  const observations: SignerObservation[] = [];
  for (const f of names
    .filter((k) => k.startsWith('o:'))
    .sort()
    .slice(0, MAX_FIELDS)) {
    const o = observation.safeParse(parseJson(hash[f]));
    if (o.success && fieldOf(o.data as SignerObservation) === f)
      observations.push(o.data as SignerObservation);
  }
  if (!c.success && observations.length === 0) return undefined;
  const latest = observations
    .map((o) => o.seenAt)
    .sort()
    .at(-1);
  return {
    digest,
    observations: observations.slice(0, MAX_FIELDS),
    checkedAt: c.success ? c.data.checkedAt : (latest as string),
    // Without a readable `checked`, scope cannot say the last look was complete.
    complete: c.success ? c.data.complete : false,
  };
}
