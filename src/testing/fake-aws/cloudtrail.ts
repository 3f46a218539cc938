import { createHash } from 'node:crypto';
import { type AwsReply, jsonBody, jsonError, jsonOk, type RequestInfo } from './wire.ts';

/** An event as CloudTrail's LookupEvents stores and returns it; `cloudTrailEvent` is the record's JSON text. */
export type StoredEvent = {
  id: string;
  name: string;
  source: string;
  /** Milliseconds since the epoch. */
  time: number;
  readOnly?: boolean;
  accessKeyId?: string;
  username?: string;
  resources: { type?: string; name: string }[];
  cloudTrailEvent: string;
};

const ATTRIBUTE_KEYS = [
  'EventId',
  'EventName',
  'ReadOnly',
  'Username',
  'ResourceType',
  'ResourceName',
  'EventSource',
  'AccessKeyId',
] as const;

type Bucket = { tokens: number; at: number };

/**
 * CloudTrail `LookupEvents` as documented: one lookup attribute per call, `MaxResults` 1–50, newest first,
 * `NextToken` bound to the query it came from, epoch-second timestamps, and `ThrottlingException` once an
 * account+region exceeds its request rate (a token bucket of `burst` tokens refilled at `rate` per second).
 */
export class FakeCloudTrail {
  rate: number;
  /** Bucket size: how many requests may arrive back to back (AWS documents only the rate; 2 is cautious). */
  burst: number;
  readonly #events = new Map<string, StoredEvent[]>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #sorted = new Set<string>();
  pages = 0;
  throttled = 0;

  constructor(rate: number, burst = 2) {
    this.rate = rate;
    this.burst = burst;
  }

  /** Adds events already in stored form (also malformed `cloudTrailEvent` text, for defensive-parsing tests). */
  addStored(account: string, region: string, events: readonly StoredEvent[]): void {
    const key = `${account}/${region}`;
    const list = this.#events.get(key) ?? [];
    list.push(...events);
    this.#events.set(key, list);
    this.#sorted.delete(key);
  }

  /** Adds documented CloudTrail records (the JSON CloudTrail writes), indexed like LookupEvents does. */
  addRecords(records: readonly Record<string, unknown>[]): void {
    for (const r of records) {
      const account = String(r.recipientAccountId ?? '111111111111');
      const region = String(r.awsRegion ?? 'us-east-1');
      this.addStored(account, region, [storedFromRecord(r)]);
    }
  }

  count(account: string, region: string): number {
    return this.#events.get(`${account}/${region}`)?.length ?? 0;
  }

  handle(info: RequestInfo): AwsReply {
    if (info.operation !== 'LookupEvents') {
      return jsonError(400, 'UnknownOperationException', `${info.operation} is not served by the fake`);
    }
    if (!this.#take(`${info.account}/${info.region}`, info.now)) {
      this.throttled += 1;
      return jsonError(400, 'ThrottlingException', 'Rate exceeded');
    }
    const input = jsonBody(info.body);
    if (!input) return jsonError(400, 'SerializationException', 'body is not a JSON object');
    const attrs = input.LookupAttributes;
    if (attrs !== undefined && (!Array.isArray(attrs) || attrs.length > 1)) {
      return jsonError(
        400,
        'InvalidLookupAttributesException',
        'you can specify at most one lookup attribute',
      );
    }
    const attr = (attrs as { AttributeKey?: unknown; AttributeValue?: unknown }[] | undefined)?.[0];
    if (
      attr &&
      (!(ATTRIBUTE_KEYS as readonly unknown[]).includes(attr.AttributeKey) ||
        typeof attr.AttributeValue !== 'string')
    ) {
      return jsonError(400, 'InvalidLookupAttributesException', 'unknown attribute key or value');
    }
    const max = input.MaxResults ?? 50;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 50) {
      return jsonError(400, 'InvalidMaxResultsException', 'MaxResults must be between 1 and 50');
    }
    for (const k of ['StartTime', 'EndTime'] as const) {
      if (input[k] !== undefined && typeof input[k] !== 'number') {
        return jsonError(400, 'SerializationException', `${k} must be epoch seconds`);
      }
    }
    let start = input.StartTime === undefined ? 0 : (input.StartTime as number) * 1000;
    let end = input.EndTime === undefined ? info.now : (input.EndTime as number) * 1000;
    if (start > end) return jsonError(400, 'InvalidTimeRangeException', 'StartTime is after EndTime');
    // The token is bound to the query as sent (a page without EndTime keeps the first page's "now").
    const queryHash = createHash('sha256')
      .update(
        JSON.stringify([
          info.account,
          info.region,
          attr ?? null,
          input.StartTime ?? null,
          input.EndTime ?? null,
        ]),
      )
      .digest('hex')
      .slice(0, 16);
    let offset = 0;
    if (input.NextToken !== undefined) {
      const token = decodeToken(input.NextToken);
      if (!token || token.h !== queryHash) {
        return jsonError(
          400,
          'InvalidNextTokenException',
          'the token is invalid or belongs to another query',
        );
      }
      offset = token.o;
      start = token.s;
      end = token.e;
    }
    const matching = this.#list(info.account, info.region).filter(
      (e) =>
        e.time >= start &&
        e.time <= end &&
        matches(e, attr as { AttributeKey: string; AttributeValue: string }),
    );
    const page = matching.slice(offset, offset + max);
    const next =
      offset + max < matching.length
        ? encodeToken({ h: queryHash, o: offset + max, s: start, e: end })
        : undefined;
    this.pages += 1;
    return jsonOk({
      Events: page.map((e) => ({
        EventId: e.id,
        EventName: e.name,
        ...(e.readOnly === undefined ? {} : { ReadOnly: String(e.readOnly) }),
        ...(e.accessKeyId ? { AccessKeyId: e.accessKeyId } : {}),
        EventTime: e.time / 1000,
        EventSource: e.source,
        ...(e.username ? { Username: e.username } : {}),
        Resources: e.resources.map((r) => ({ ResourceType: r.type, ResourceName: r.name })),
        CloudTrailEvent: e.cloudTrailEvent,
      })),
      ...(next ? { NextToken: next } : {}),
    });
  }

  #list(account: string, region: string): StoredEvent[] {
    const key = `${account}/${region}`;
    const list = this.#events.get(key) ?? [];
    if (!this.#sorted.has(key)) {
      list.sort((a, b) => b.time - a.time || (a.id < b.id ? -1 : 1));
      this.#sorted.add(key);
    }
    return list;
  }

  #take(key: string, now: number): boolean {
    const cap = Math.max(1, this.burst);
    const b = this.#buckets.get(key) ?? { tokens: cap, at: now };
    b.tokens = Math.min(cap, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    this.#buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

function matches(
  e: StoredEvent,
  attr: { AttributeKey: string; AttributeValue: string } | undefined,
): boolean {
  if (!attr) return true;
  const v = attr.AttributeValue;
  switch (attr.AttributeKey) {
    case 'EventId':
      return e.id === v;
    case 'EventName':
      return e.name === v;
    case 'ReadOnly':
      return String(e.readOnly) === v;
    case 'Username':
      return e.username === v;
    case 'ResourceType':
      return e.resources.some((r) => r.type === v);
    case 'ResourceName':
      return e.resources.some((r) => r.name === v);
    case 'EventSource':
      return e.source === v;
    case 'AccessKeyId':
      return e.accessKeyId === v;
    default:
      return false;
  }
}

type Token = { h: string; o: number; s: number; e: number };

function encodeToken(t: Token): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

function decodeToken(v: unknown): Token | undefined {
  if (typeof v !== 'string') return undefined;
  try {
    const t = JSON.parse(Buffer.from(v, 'base64url').toString('utf8')) as Partial<
      Record<keyof Token, unknown>
    >;
    return typeof t.h === 'string' &&
      typeof t.o === 'number' &&
      typeof t.s === 'number' &&
      typeof t.e === 'number'
      ? { h: t.h, o: t.o, s: t.s, e: t.e }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Derives the LookupEvents index fields from a CloudTrail record, the way CloudTrail does. */
export function storedFromRecord(r: Record<string, unknown>): StoredEvent {
  const ui = (r.userIdentity ?? {}) as Record<string, unknown>;
  const type = ui.type;
  const arn = typeof ui.arn === 'string' ? ui.arn : '';
  const username =
    type === 'IAMUser'
      ? String(ui.userName ?? '')
      : type === 'AssumedRole'
        ? arn.split('/').pop()
        : type === 'Root'
          ? 'root'
          : undefined;
  const resources = Array.isArray(r.resources)
    ? (r.resources as { ARN?: string; type?: string }[])
        .filter((x) => typeof x.ARN === 'string')
        .map((x) => ({ name: x.ARN as string, ...(x.type ? { type: x.type } : {}) }))
    : [];
  return {
    id: String(r.eventID),
    name: String(r.eventName),
    source: String(r.eventSource),
    time: Date.parse(String(r.eventTime)),
    ...(typeof r.readOnly === 'boolean' ? { readOnly: r.readOnly } : {}),
    ...(typeof ui.accessKeyId === 'string' && ui.accessKeyId ? { accessKeyId: ui.accessKeyId } : {}),
    ...(username ? { username } : {}),
    resources,
    cloudTrailEvent: JSON.stringify(r),
  };
}
