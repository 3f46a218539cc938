import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeCloudTrail } from './cloudtrail.ts';
import { FakeIam } from './iam.ts';
import { FakeSecretsManager } from './secrets.ts';
import { type AwsReply, esc, jsonError, type RequestInfo, xmlError, xmlOk } from './wire.ts';

export type { AwsReply, RequestInfo } from './wire.ts';

/** An injected failure: every matching request gets this error until `times` runs out. */
export type AwsFault = {
  service: 'cloudtrail' | 'iam' | 'secretsmanager' | 'sts';
  /** Only this operation (`LookupEvents`, `UpdateAccessKey`…); any when absent. */
  operation?: string;
  region?: string;
  account?: string;
  status: number;
  code: string;
  message?: string;
  times?: number;
};

export type FakeAwsOptions = {
  /** Account of callers whose access key is not registered (the default chain's keys). */
  defaultAccount?: string;
  /** LookupEvents requests per second per account+region before ThrottlingException (AWS: 2). */
  lookupRatePerSecond?: number;
};

/** A request the stand-in served, for tests to assert what the SDK sent (paging, throttles, retries). */
export type AwsRequestRecord = {
  service: string;
  operation: string;
  region: string;
  account: string;
  /** The access key id that signed the request. */
  keyId: string;
  status: number;
  errorCode?: string;
  at: number;
};

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]{16,128})\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;.-]+), ?Signature=([0-9a-f]{64})$/;

/**
 * One loopback HTTP server speaking the wire protocols of CloudTrail (JSON 1.1), IAM and STS (query protocol,
 * XML) and Secrets Manager (JSON 1.1), so the unchanged AWS SDK clients, SigV4 signing and retries run against
 * it. The service and region come from the SigV4 credential scope, the account from the access key (keys issued
 * by the fake STS belong to the assumed role's account). Signatures are checked for form, not cryptographically.
 */
export class FakeAws {
  readonly cloudtrail: FakeCloudTrail;
  readonly iam: FakeIam;
  readonly secrets: FakeSecretsManager;
  readonly requests: AwsRequestRecord[] = [];
  readonly defaultAccount: string;
  readonly #server: Server;
  readonly #keys = new Map<string, { account: string; arn: string; secret: string; token?: string }>();
  #faults: (AwsFault & { remaining: number })[] = [];
  #port = 0;

  constructor(opts: FakeAwsOptions = {}) {
    this.defaultAccount = opts.defaultAccount ?? '111111111111';
    this.cloudtrail = new FakeCloudTrail(opts.lookupRatePerSecond ?? 2);
    this.iam = new FakeIam();
    this.secrets = new FakeSecretsManager();
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.keepAliveTimeout = 5000;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Credentials that sign as `account` (for tests of several accounts without STS). */
  registerKey(accessKeyId: string, account: string, arn = `arn:aws:iam::${account}:user/scope`): void {
    this.#keys.set(accessKeyId, { account, arn, secret: 'unused' });
  }

  /** STS: issues session credentials in the role's account. */
  issueSession(roleArn: string, sessionName: string): { id: string; secret: string; token: string } {
    const account = /^arn:aws:iam::(\d{12}):role\//.exec(roleArn)?.[1] ?? this.defaultAccount;
    const id = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const secret = randomBytes(20).toString('base64');
    const token = randomBytes(32).toString('base64');
    const role = roleArn.split('/').pop() ?? 'role';
    this.#keys.set(id, {
      account,
      arn: `arn:aws:sts::${account}:assumed-role/${role}/${sessionName}`,
      secret,
      token,
    });
    return { id, secret, token };
  }

  setFault(fault: AwsFault): void {
    this.#faults.push({ ...fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
  }

  clearFaults(): void {
    this.#faults = [];
  }

  count(
    filter: Partial<Pick<AwsRequestRecord, 'service' | 'operation' | 'region' | 'errorCode' | 'keyId'>>,
  ): number {
    return this.requests.filter((r) =>
      Object.entries(filter).every(([k, v]) => r[k as keyof AwsRequestRecord] === v),
    ).length;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const auth = AUTH.exec(String(req.headers.authorization ?? ''));
    const target = String(req.headers['x-amz-target'] ?? '');
    let reply: AwsReply;
    let info: RequestInfo | undefined;
    if (!auth || !req.headers['x-amz-date'] || req.method !== 'POST') {
      reply = target
        ? jsonError(403, 'IncompleteSignatureException', 'Authorization header is missing or malformed')
        : xmlError(403, 'IncompleteSignature', 'Authorization header is missing or malformed');
      this.#send(res, reply, { service: '?', operation: '?', region: '?', account: '?', keyId: '?' });
      return;
    }
    const [, keyId, , region, service] = auth as unknown as [string, string, string, string, string];
    const known = this.#keys.get(keyId);
    const account = known?.account ?? this.defaultAccount;
    const callerArn = known?.arn ?? `arn:aws:iam::${account}:user/scope`;
    const operation = target
      ? (target.split('.').pop() ?? '')
      : (new URLSearchParams(body).get('Action') ?? '');
    info = { service, operation, region, account, callerArn, keyId, body, now: Date.now() };
    const fault = this.#faults.find(
      (f) =>
        f.remaining > 0 &&
        f.service === service &&
        (f.operation === undefined || f.operation === operation) &&
        (f.region === undefined || f.region === region) &&
        (f.account === undefined || f.account === account),
    );
    try {
      if (fault) {
        fault.remaining -= 1;
        reply = target
          ? jsonError(fault.status, fault.code, fault.message ?? 'injected fault')
          : xmlError(fault.status, fault.code, fault.message ?? 'injected fault');
      } else if (service === 'cloudtrail') reply = this.cloudtrail.handle(info);
      else if (service === 'secretsmanager') reply = this.secrets.handle(info);
      else if (service === 'iam') reply = this.iam.handle(info);
      else if (service === 'sts') reply = this.#sts(info);
      else reply = jsonError(400, 'UnknownService', `service ${service} is not served here`);
    } catch (err) {
      reply = target
        ? jsonError(500, 'InternalFailure', (err as Error).message)
        : xmlError(500, 'ServiceFailure', (err as Error).message);
    }
    this.#send(res, reply, info);
  }

  #send(res: ServerResponse, reply: AwsReply, info: Omit<AwsRequestRecord, 'status' | 'at'>): void {
    this.requests.push({
      service: info.service,
      operation: info.operation,
      region: info.region,
      account: info.account,
      keyId: info.keyId,
      status: reply.status,
      ...(reply.errorCode ? { errorCode: reply.errorCode } : {}),
      at: Date.now(),
    });
    if (this.requests.length > 50_000) this.requests.splice(0, 10_000);
    res.writeHead(reply.status, {
      'content-type': reply.contentType,
      'x-amzn-requestid': randomUUID(),
      ...(reply.errorCode ? { 'x-amzn-errortype': reply.errorCode } : {}),
    });
    res.end(reply.body);
  }

  #sts(info: RequestInfo): AwsReply {
    const p = new URLSearchParams(info.body);
    const ns = 'https://sts.amazonaws.com/doc/2011-06-15/';
    if (info.operation === 'GetCallerIdentity') {
      const userId = info.keyId;
      return xmlOk(
        'GetCallerIdentity',
        ns,
        `<Arn>${esc(info.callerArn)}</Arn><UserId>${esc(userId)}</UserId><Account>${info.account}</Account>`,
      );
    }
    if (info.operation === 'AssumeRole') {
      const roleArn = p.get('RoleArn') ?? '';
      const session = p.get('RoleSessionName') ?? '';
      if (!/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(roleArn) || !/^[\w+=,.@-]{2,64}$/.test(session)) {
        return xmlError(400, 'ValidationError', 'invalid RoleArn or RoleSessionName');
      }
      const c = this.issueSession(roleArn, session);
      const exp = new Date(info.now + 3600_000).toISOString();
      const role = roleArn.split('/').pop();
      const account = roleArn.split(':')[4];
      return xmlOk(
        'AssumeRole',
        ns,
        `<Credentials><AccessKeyId>${c.id}</AccessKeyId><SecretAccessKey>${esc(c.secret)}</SecretAccessKey><SessionToken>${esc(c.token)}</SessionToken><Expiration>${exp}</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::${account}:assumed-role/${esc(role ?? '')}/${esc(session)}</Arn><AssumedRoleId>AROA${randomBytes(8).toString('hex').toUpperCase()}:${esc(session)}</AssumedRoleId></AssumedRoleUser>`,
      );
    }
    return xmlError(400, 'InvalidAction', `${info.operation} is not implemented by the fake STS`);
  }
}

/** Starts a stand-in on a random loopback port. */
export async function startFakeAws(opts: FakeAwsOptions = {}): Promise<FakeAws> {
  const fake = new FakeAws(opts);
  await fake.listen();
  return fake;
}
