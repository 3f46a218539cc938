/**
 * One CloudTrail event as the audit reasons about it: the handful of fields the analysis and the report need,
 * read defensively from the `CloudTrailEvent` JSON of a LookupEvents result.
 */
export type AuditEvent = {
  id: string;
  /** Milliseconds since the epoch. */
  time: number;
  account: string;
  region: string;
  source: string;
  name: string;
  readOnly?: boolean;
  errorCode?: string;
  sourceIp?: string;
  userAgent?: string;
  accessKeyId?: string;
  /** ARN of the identity that made the call. */
  actorArn?: string;
  identityType?: string;
  sessionName?: string;
  /** How the event relates to the audited principal: it acted, a session of it started, or it was acted on. */
  relation: 'actor' | 'session-start' | 'subject';
  /** CreateAccessKey: the key made and for whom (never the secret: CloudTrail does not log it). */
  createdKey?: { user: string; accessKeyId: string };
  /** AssumeRole*: the role and the temporary key issued. */
  assumedRole?: { roleArn: string; sessionName?: string; accessKeyId?: string };
  /** The main request parameter, shortened, for the event table (secret id, user name, trail…). */
  target?: string;
};

/** The LookupEvents fields of one result entry (what the SDK returns), before parsing. */
export type LookupEntry = {
  EventId?: string | undefined;
  EventName?: string | undefined;
  EventSource?: string | undefined;
  EventTime?: Date | undefined;
  AccessKeyId?: string | undefined;
  ReadOnly?: string | undefined;
  Username?: string | undefined;
  CloudTrailEvent?: string | undefined;
};

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
}

function str(v: unknown, max = 2048): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v.slice(0, max) : undefined;
}

const TARGET_KEYS = [
  'userName',
  'roleName',
  'secretId',
  'name',
  'bucketName',
  'roleArn',
  'policyArn',
  'functionName',
];

/**
 * Parses one LookupEvents entry. Returns undefined when the event cannot be used at all (no id, no time, no
 * name, or a `CloudTrailEvent` that is not a JSON object); the caller counts those. Any other odd field is
 * dropped, never trusted: wrong types become "unknown" rather than crashing the audit.
 */
export function parseLookupEntry(
  e: LookupEntry,
  where: { account: string; region: string },
  relation: AuditEvent['relation'] = 'actor',
): AuditEvent | undefined {
  let rec: Obj | undefined;
  try {
    rec = obj(JSON.parse(e.CloudTrailEvent ?? ''));
  } catch {
    rec = undefined;
  }
  if (!rec) return undefined;
  const id = str(e.EventId, 128) ?? str(rec.eventID, 128);
  const name = str(e.EventName, 128) ?? str(rec.eventName, 128);
  const recTime = typeof rec.eventTime === 'string' ? Date.parse(rec.eventTime) : Number.NaN;
  const time =
    e.EventTime instanceof Date && !Number.isNaN(e.EventTime.getTime()) ? e.EventTime.getTime() : recTime;
  if (!id || !name || !Number.isFinite(time)) return undefined;
  const ui = obj(rec.userIdentity) ?? {};
  const ev: AuditEvent = {
    id,
    time,
    account: str(rec.recipientAccountId, 12) ?? where.account,
    region: str(rec.awsRegion, 32) ?? where.region,
    source: str(e.EventSource, 128) ?? str(rec.eventSource, 128) ?? 'unknown',
    name,
    relation,
  };
  const ro =
    typeof rec.readOnly === 'boolean'
      ? rec.readOnly
      : e.ReadOnly === 'true'
        ? true
        : e.ReadOnly === 'false'
          ? false
          : undefined;
  if (ro !== undefined) ev.readOnly = ro;
  const set = <K extends keyof AuditEvent>(k: K, v: AuditEvent[K] | undefined) => {
    if (v !== undefined) ev[k] = v;
  };
  set('errorCode', str(rec.errorCode, 128));
  set('sourceIp', str(rec.sourceIPAddress, 128));
  set('userAgent', str(rec.userAgent, 512));
  set('accessKeyId', str(ui.accessKeyId, 128) ?? str(e.AccessKeyId, 128));
  set('actorArn', str(ui.arn, 512));
  set('identityType', str(ui.type, 64));
  if (ui.type === 'AssumedRole') set('sessionName', str(ui.arn)?.split('/').pop());
  const req = obj(rec.requestParameters);
  const resp = obj(rec.responseElements);
  if (name === 'CreateAccessKey' && !ev.errorCode) {
    const k = obj(resp?.accessKey);
    const keyId = str(k?.accessKeyId, 128);
    const user = str(k?.userName, 128) ?? str(req?.userName, 128) ?? ev.actorArn?.split('/').pop();
    if (keyId && user) ev.createdKey = { user, accessKeyId: keyId };
  }
  if (name.startsWith('AssumeRole')) {
    const roleArn = str(req?.roleArn, 512);
    if (roleArn) {
      const ar: NonNullable<AuditEvent['assumedRole']> = { roleArn };
      const s = str(req?.roleSessionName, 128);
      const k = str(obj(resp?.credentials)?.accessKeyId, 128);
      if (s) ar.sessionName = s;
      if (k) ar.accessKeyId = k;
      ev.assumedRole = ar;
    }
  }
  if (req) {
    for (const k of TARGET_KEYS) {
      const v = str(req[k], 200);
      if (v) {
        ev.target = v;
        break;
      }
    }
  }
  return ev;
}
