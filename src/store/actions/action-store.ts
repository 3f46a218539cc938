import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { StepRecord } from '../../domain/actions/contract.ts';
import type { ActionRequest } from '../../domain/actions/request.ts';
import { ScopeError } from '../../errors.ts';
import { withLease } from '../lease.ts';
import { type Offer, offerSchema, recheckSchema, recordSchema, requestSchema } from './schemas.ts';

export type { Offer };

/**
 * Redis keys (all under the configured hash-tag prefix, so one slot holds them):
 *   action:offer:<id>        JSON offer (kind + input) a button or command refers to; 24 h
 *   action:req:<id>          JSON request (plan as computed at request time, approvals, state, rev); 30 days
 *   action:steps:<id>        hash stepKey → JSON StepRecord (the step log); 30 days
 *   action:recheck:<id>      hash stepKey → held|reverted|unknown
 *   action:active:<kind>     zset request id → created ms (active freezes for `/scope frozen`)
 *   action:seen:<id>         set of interaction ids already handled (replays are refused)
 */
const OFFER_TTL = 24 * 3600;
const REQUEST_TTL = 30 * 24 * 3600;

// Compare-and-set on the request's revision: the write happens only if nobody transitioned it meanwhile.
const CAS = `
local cur = redis.call('GET', KEYS[1])
if not cur then return -1 end
local rev = cjson.decode(cur)['rev']
if tostring(rev) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
`;

/** Server-side state of the approval engine; every read is validated, every transition is atomic. */
export class ActionStore {
  readonly #redis: Redis;
  readonly #p: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#p = `${prefix}:action`;
  }

  static newId(): string {
    return randomBytes(16).toString('hex');
  }

  async saveOffer(offer: Omit<Offer, 'id'>): Promise<Offer> {
    const full = { ...offer, id: ActionStore.newId() };
    await this.#redis.set(`${this.#p}:offer:${full.id}`, JSON.stringify(full), 'EX', OFFER_TTL);
    return full;
  }

  async getOffer(id: string): Promise<Offer | undefined> {
    if (!/^[a-f0-9]{32}$/.test(id)) return undefined;
    return parse(await this.#redis.get(`${this.#p}:offer:${id}`), offerSchema, 'offer');
  }

  /** Creates the request once; a redelivered plan job finds it and gets the stored one back. */
  async createRequest(r: ActionRequest): Promise<{ created: boolean; request: ActionRequest }> {
    const ok = await this.#redis.set(`${this.#p}:req:${r.id}`, JSON.stringify(r), 'EX', REQUEST_TTL, 'NX');
    if (ok === 'OK') return { created: true, request: r };
    const existing = await this.getRequest(r.id);
    if (!existing) throw new ScopeError('INTERNAL', `request ${r.id} vanished while being created`);
    return { created: false, request: existing };
  }

  async getRequest(id: string): Promise<ActionRequest | undefined> {
    if (!/^[a-f0-9]{32}$/.test(id)) return undefined;
    return parse(await this.#redis.get(`${this.#p}:req:${id}`), requestSchema, 'request') as
      | ActionRequest
      | undefined;
  }

  /**
   * Reads the request, lets `decide` compute the next one, and writes it only if nobody else changed the
   * request meanwhile (retrying with the fresh state otherwise). Two clicks racing each see a consistent state.
   */
  async transition<T extends { next?: ActionRequest }>(
    id: string,
    decide: (r: ActionRequest) => T,
  ): Promise<{ request: ActionRequest; result: T } | undefined> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.getRequest(id);
      if (!current) return undefined;
      const result = decide(current);
      const next = result.next;
      if (!next || next === current || next.rev === current.rev) return { request: current, result };
      const r = await this.#redis.eval(
        CAS,
        1,
        `${this.#p}:req:${id}`,
        String(current.rev),
        JSON.stringify(next),
        String(REQUEST_TTL),
      );
      if (r === 1) return { request: next, result };
      if (r === -1) return undefined;
    }
    throw new ScopeError('INTERNAL', `request ${id} is changing too fast to update`);
  }

  async recordStep(requestId: string, record: StepRecord): Promise<void> {
    const key = `${this.#p}:steps:${requestId}`;
    await this.#redis.multi().hset(key, record.key, JSON.stringify(record)).expire(key, REQUEST_TTL).exec();
  }

  async steps(requestId: string): Promise<Map<string, StepRecord>> {
    const raw = await this.#redis.hgetall(`${this.#p}:steps:${requestId}`);
    const out = new Map<string, StepRecord>();
    for (const [k, v] of Object.entries(raw)) {
      const rec = parse(v, recordSchema, 'step record') as StepRecord | undefined;
      if (rec && rec.key === k) out.set(k, rec);
    }
    return out;
  }

  async recordRecheck(requestId: string, results: Record<string, 'held' | 'reverted' | 'unknown'>) {
    const key = `${this.#p}:recheck:${requestId}`;
    if (Object.keys(results).length === 0) return;
    await this.#redis.multi().hset(key, results).expire(key, REQUEST_TTL).exec();
  }

  async rechecks(requestId: string): Promise<Record<string, 'held' | 'reverted' | 'unknown'>> {
    const raw = await this.#redis.hgetall(`${this.#p}:recheck:${requestId}`);
    return recheckSchema.safeParse(raw).data ?? {};
  }

  async setActive(kind: string, requestId: string, active: boolean, at = Date.now()): Promise<void> {
    if (active) await this.#redis.zadd(`${this.#p}:active:${kind}`, String(at), requestId);
    else await this.#redis.zrem(`${this.#p}:active:${kind}`, requestId);
  }

  /** Ids of the active requests of a kind, oldest first (no request is read). */
  async activeIds(kind: string): Promise<string[]> {
    return this.#redis.zrange(`${this.#p}:active:${kind}`, '0', '-1');
  }

  async active(kind: string): Promise<ActionRequest[]> {
    const ids = await this.#redis.zrange(`${this.#p}:active:${kind}`, '0', '-1');
    const out: ActionRequest[] = [];
    for (const id of ids) {
      const r = await this.getRequest(id);
      if (r) out.push(r);
    }
    return out;
  }

  /**
   * Runs `fn` while holding the request's card lock, so card updates happen one at a time and each renders
   * the state read inside the lock: the last update always shows the latest state, never an older one.
   */
  async withCardLock<T>(requestId: string, fn: () => Promise<T>, waitMs = 15_000): Promise<T> {
    return withLease(this.#redis, `${this.#p}:cardlock:${requestId}`, fn, {
      ttlMs: 20_000,
      waitMs,
      busy: () => new ScopeError('TIMEOUT', `card of request ${requestId} is busy`),
    });
  }

  /** True the first time an interaction id is seen for a request; false for a replay or redelivery. */
  async firstSeen(requestId: string, interactionId: string): Promise<boolean> {
    const key = `${this.#p}:seen:${requestId}`;
    const [[, added]] = (await this.#redis
      .multi()
      .sadd(key, interactionId)
      .expire(key, REQUEST_TTL)
      .exec()) as [[unknown, number]];
    return added === 1;
  }
}

function parse<T>(
  raw: string | null,
  schema: { safeParse: (v: unknown) => { success: boolean; data?: T } },
  what: string,
): T | undefined {
  if (raw === null) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ScopeError('INTERNAL', `stored ${what} is not JSON`);
  }
  const r = schema.safeParse(json);
  if (!r.success) throw new ScopeError('INTERNAL', `stored ${what} does not match its schema`);
  return r.data;
}
