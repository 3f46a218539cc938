import { LookupEventsCommand, type LookupEventsCommandOutput } from '@aws-sdk/client-cloudtrail';
import { type AuditEvent, type LookupEntry, parseLookupEntry } from '../../domain/audit/event.ts';
import type { Principal } from '../../domain/audit/principal.ts';
import type {
  AuditEventSource,
  AuditFetch,
  AuditProgress,
  RegionOutcome,
} from '../../domain/audit/source.ts';
import type { AuditWindow } from '../../domain/audit/window.ts';
import { UserFacingError } from '../../errors.ts';
import type { AwsAccount, AwsClients } from './clients.ts';
import type { AwsConfig } from './config.ts';

export type { AuditFetch, AuditProgress, RegionOutcome } from '../../domain/audit/source.ts';

import { PacedLimiter, sleep } from './limiter.ts';

type Attribute = { AttributeKey: 'Username' | 'AccessKeyId' | 'ResourceName'; AttributeValue: string };
type QueryState = { start: number; end: number; oldest: number; done: boolean };

const LOOKUP_PAGE = 50;
/** A role session lives at most 12 h: sessions started this long before the baseline can still act in it. */
const SESSION_LEAD_MS = 12 * 3_600_000;

/**
 * Reads a principal's CloudTrail history (incident window plus baseline) from every configured account and
 * region at once, each account+region paced by its own limiter. A region that fails is reported and the
 * others continue; cancellation (AbortSignal) stops every request.
 */
export class CloudTrailAuditSource implements AuditEventSource {
  readonly #clients: AwsClients;
  readonly #settings: AwsConfig['audit'];
  readonly #limiters = new Map<string, PacedLimiter>();

  constructor(clients: AwsClients, settings: AwsConfig['audit']) {
    this.#clients = clients;
    this.#settings = settings;
  }

  limiter(account: string, region: string): PacedLimiter {
    const k = `${account}/${region}`;
    let l = this.#limiters.get(k);
    if (!l) {
      l = new PacedLimiter(this.#settings.requestsPerSecond);
      this.#limiters.set(k, l);
    }
    return l;
  }

  async fetch(
    principal: Principal,
    window: AuditWindow,
    opts: { regions?: readonly string[]; signal: AbortSignal; onProgress?: (p: AuditProgress) => void },
  ): Promise<AuditFetch> {
    const { signal } = opts;
    const started = Date.now();
    const totals = { pages: 0, events: 0, throttles: 0 };
    const queries: QueryState[] = [];
    const progress = () => {
      if (!opts.onProgress) return;
      const f = queries.length === 0 ? 0 : queries.reduce((s, q) => s + fraction(q), 0) / queries.length;
      const elapsed = Date.now() - started;
      opts.onProgress({ ...totals, ...(f > 0.02 ? { etaMs: Math.round((elapsed * (1 - f)) / f) } : {}) });
    };
    const notes: string[] = [];
    const targets: { account: AwsAccount; id: string; region: string; outcome: RegionOutcome }[] = [];
    for (const account of this.#clients.accounts) {
      let id: string;
      try {
        id = await account.accountId(signal);
      } catch (err) {
        signal.throwIfAborted();
        for (const region of account.regions) {
          targets.push({
            account,
            id: account.configuredId ?? 'unknown',
            region,
            outcome: emptyOutcome(
              account.configuredId ?? 'unknown',
              region,
              `cannot resolve account: ${describe(err)}`,
            ),
          });
        }
        continue;
      }
      const regions = opts.regions
        ? account.regions.filter((r) => opts.regions?.includes(r))
        : account.regions;
      for (const region of regions) targets.push({ account, id, region, outcome: emptyOutcome(id, region) });
    }
    if (opts.regions) {
      const known = new Set(this.#clients.accounts.flatMap((a) => a.regions));
      const unknown = opts.regions.filter((r) => !known.has(r));
      if (unknown.length === opts.regions.length) {
        throw new UserFacingError(
          'BAD_INPUT',
          `none of the requested regions is configured (${unknown.join(', ')}); configured: ${[...known].join(', ') || 'none'}.`,
        );
      }
      if (unknown.length > 0) notes.push(`Not configured, so not read: ${unknown.join(', ')}.`);
    }
    const byId = new Map<string, AuditEvent>();
    let unreadable = 0;
    const run = async (
      t: (typeof targets)[number],
      attr: Attribute,
      start: number,
      relate: (e: AuditEvent) => AuditEvent['relation'] | undefined,
    ): Promise<AuditEvent[]> => {
      const q: QueryState = { start, end: window.until, oldest: window.until, done: false };
      queries.push(q);
      const out: AuditEvent[] = [];
      const limiter = this.limiter(t.id, t.region);
      const client = t.account.cloudtrail(t.region);
      let token: string | undefined;
      let read = 0;
      do {
        let res: LookupEventsCommandOutput | undefined;
        for (let attempt = 0; res === undefined; attempt++) {
          await limiter.acquire(signal);
          try {
            res = await client.send(
              new LookupEventsCommand({
                LookupAttributes: [attr],
                StartTime: new Date(start),
                EndTime: new Date(window.until),
                MaxResults: LOOKUP_PAGE,
                ...(token ? { NextToken: token } : {}),
              }),
              { abortSignal: signal },
            );
          } catch (err) {
            signal.throwIfAborted();
            const throttled = isThrottle(err);
            if (throttled) {
              t.outcome.throttles += 1;
              totals.throttles += 1;
            }
            if (
              !(throttled || isTransient(err)) ||
              attempt >= (throttled ? this.#settings.throttleRetries : 3)
            ) {
              throw err;
            }
            const wait = limiter.throttled();
            progress();
            await sleep(Math.min(wait, 50), signal);
          }
        }
        limiter.succeeded();
        t.outcome.pages += 1;
        totals.pages += 1;
        for (const entry of res.Events ?? []) {
          read += 1;
          const ev = parseLookupEntry(entry as LookupEntry, { account: t.id, region: t.region });
          if (!ev) {
            unreadable += 1;
            t.outcome.unreadable += 1;
            continue;
          }
          if (ev.time < q.oldest) q.oldest = ev.time;
          const rel = relate(ev);
          if (rel === undefined) continue;
          ev.relation = rel;
          out.push(ev);
        }
        token = res.NextToken;
        totals.events = byId.size + out.length;
        progress();
        if (read >= this.#settings.maxEventsPerQuery && token) {
          t.outcome.truncated = true;
          break;
        }
      } while (token);
      q.done = true;
      return out;
    };
    const keep = (t: (typeof targets)[number], list: AuditEvent[]) => {
      for (const e of list) {
        if (!byId.has(e.id)) {
          byId.set(e.id, e);
          t.outcome.events += 1;
        }
      }
      totals.events = byId.size;
    };
    const guarded = async (t: (typeof targets)[number], fn: () => Promise<void>) => {
      if (t.outcome.error) return;
      try {
        await fn();
      } catch (err) {
        signal.throwIfAborted();
        t.outcome.error = describe(err);
      }
    };

    const sessions = new Set<string>();
    if (principal.kind === 'role') {
      // Phase 1: the role's sessions, from the AssumeRole* events that name it (logged where STS was called).
      await Promise.all(
        targets.map((t) =>
          guarded(t, async () => {
            const roleArn = `arn:aws:iam::${t.id}:role/${principal.name}`;
            const found = await run(
              t,
              { AttributeKey: 'ResourceName', AttributeValue: roleArn },
              window.baselineStart - SESSION_LEAD_MS,
              (e) =>
                e.assumedRole?.roleArn === roleArn && e.name.startsWith('AssumeRole')
                  ? 'session-start'
                  : 'subject',
            );
            for (const e of found)
              if (e.relation === 'session-start' && e.assumedRole?.sessionName)
                sessions.add(e.assumedRole.sessionName);
            keep(
              t,
              found.filter((e) => e.time >= window.baselineStart),
            );
          }),
        ),
      );
      const names = [...sessions].sort();
      if (names.length > this.#settings.maxSessions) {
        notes.push(
          `The role had ${names.length} session names; only the first ${this.#settings.maxSessions} were followed.`,
        );
        names.length = this.#settings.maxSessions;
      }
      // Phase 2: what each session did, in every region (a stolen session key can be used anywhere).
      const marker = `:assumed-role/${principal.name}/`;
      await Promise.all(
        targets.map((t) =>
          guarded(t, async () => {
            for (const name of names) {
              keep(
                t,
                await run(t, { AttributeKey: 'Username', AttributeValue: name }, window.baselineStart, (e) =>
                  e.actorArn?.includes(marker) ? 'actor' : undefined,
                ),
              );
            }
          }),
        ),
      );
    } else {
      const attr: Attribute =
        principal.kind === 'user'
          ? { AttributeKey: 'Username', AttributeValue: principal.name }
          : principal.kind === 'access-key'
            ? { AttributeKey: 'AccessKeyId', AttributeValue: principal.id }
            : { AttributeKey: 'ResourceName', AttributeValue: principal.name };
      await Promise.all(
        targets.map((t) =>
          guarded(t, async () => {
            keep(
              t,
              await run(t, attr, window.baselineStart, (e) =>
                principal.kind === 'user' && e.actorArn && !e.actorArn.endsWith(`:user/${principal.name}`)
                  ? 'subject'
                  : 'actor',
              ),
            );
          }),
        ),
      );
    }
    if (unreadable > 0)
      notes.push(`${unreadable} event(s) could not be read (malformed CloudTrailEvent) and were left out.`);
    for (const t of targets)
      if (t.outcome.truncated)
        notes.push(
          `${t.id}/${t.region}: stopped after ${this.#settings.maxEventsPerQuery} events per query.`,
        );
    return {
      events: [...byId.values()].sort((a, b) => a.time - b.time),
      unreadable,
      pages: totals.pages,
      throttles: totals.throttles,
      regions: targets.map((t) => t.outcome),
      sessions: [...sessions].sort(),
      notes,
    };
  }
}

function emptyOutcome(account: string, region: string, error?: string): RegionOutcome {
  return {
    account,
    region,
    pages: 0,
    events: 0,
    throttles: 0,
    unreadable: 0,
    truncated: false,
    ...(error ? { error } : {}),
  };
}

function fraction(q: QueryState): number {
  if (q.done) return 1;
  const span = q.end - q.start;
  return span <= 0 ? 1 : Math.min(1, Math.max(0, (q.end - q.oldest) / span));
}

function isThrottle(err: unknown): boolean {
  const e = err as { name?: string; $retryable?: { throttling?: boolean } };
  return e.name === 'ThrottlingException' || e.$retryable?.throttling === true;
}

function isTransient(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode ?? 0;
  return (
    status >= 500 ||
    e.name === 'TimeoutError' ||
    /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT)$/.test(e.code ?? '')
  );
}

/** An error as one line for the report: the AWS error code and message, never a stack or credentials. */
export function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
  return `${e.name ?? 'Error'}${status}: ${(e.message ?? String(err)).slice(0, 300)}`;
}
