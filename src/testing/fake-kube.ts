import type { KeyObject } from 'node:crypto';
import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';

/** Raw Kubernetes object as JSON: the fake stores and serves untyped JSON, exactly like a real API server. */
export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: KubeMetadata;
  [key: string]: unknown;
};

/** The ObjectMeta fields the fake reads or assigns; everything else passes through untouched. */
export type KubeMetadata = {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  generation?: number;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  [key: string]: unknown;
};

/** The controller link that ties Pod to ReplicaSet to Deployment (and so on); collectors walk these. */
export type OwnerReference = {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
};

/** Describes one served resource, built in or registered as a custom resource, for routing and discovery. */
export type ResourceDef = {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  subresources: ('status' | 'scale')[];
};

/** What a test passes to serve a CRD-backed kind (e.g. a policy report) next to the built-ins. */
export type CustomResourceSpec = {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  singular?: string;
  shortNames?: string[];
  categories?: string[];
};

/** One injected failure mode; the first matching fault decides how a request is (mis)handled. */
export type FaultSpec = {
  /** Answer with a real `Status` body and this HTTP code. */
  status?: number;
  /** Accept the request and never answer until `clearFaults()` (then it is served normally) or `close()`. */
  hang?: boolean;
  /** Wait this long before answering (normally, or with `status` when both are set). */
  delayMs?: number;
  /** How many requests this fault applies to; unlimited when absent. */
  times?: number;
  /** Only requests whose path contains this substring. */
  pathIncludes?: string;
  /** Only requests with this HTTP method. */
  method?: string;
  /** Status message; defaults to the reason's usual text. */
  message?: string;
  /**
   * Apply the write (PATCH/PUT) and then hold the response until `clearFaults()` or `close()`: the change
   * landed but the client never heard back (a crash window between a patch and recording it).
   */
  hangAfterApply?: boolean;
};

/** One served request, so tests can assert which API calls a collector made (paging, watches, retries). */
export type RequestRecord = {
  method: string;
  path: string;
  query: Record<string, string>;
  status?: number;
  /** Body of a write (POST, PUT, PATCH) as sent, so tests can assert exact patches. */
  body?: string;
  contentType?: string;
};

/** Aggregate request counters that survive the request-log cap. */
export type FakeKubeCounters = {
  total: number;
  discovery: number;
  list: number;
  get: number;
  watch: number;
  create: number;
  update: number;
  patch: number;
  delete: number;
  unauthorized: number;
  faults: number;
};

/** Options for one fake cluster; every field has a test-friendly default. */
export type FakeKubeOptions = {
  name?: string;
  token?: string;
  /** Max retained watch events before the oldest are compacted away (default 200,000). */
  historyLimit?: number;
  /** Max retained request records (default 10,000). */
  requestLogLimit?: number;
  /** When set, every bookmark-enabled watch gets a BOOKMARK this often. */
  bookmarkIntervalMs?: number;
  /** Reported by `/version`. */
  serverVersion?: { major: string; minor: string };
  /**
   * Serve HTTPS with a self-signed certificate for 127.0.0.1 (default true). kubectl (client-go) never sends
   * bearer tokens over plain HTTP, so `tls: false` only suits clients such as client-node.
   */
  tls?: boolean;
};

/** Change kinds a watch can report for stored objects. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

type Entry = { obj: KubeObject; json: string | undefined; key: string; ns: string };

type Bucket = {
  def: ResourceDef;
  apiVersion: string;
  items: Map<string, Entry>;
  sorted: string[] | undefined;
};

type HistoryEvent = {
  rv: number;
  type: WatchEventType;
  bucket: Bucket;
  entry: Entry;
  prev: Entry | undefined;
};

type Requirement = {
  key: string;
  op: 'eq' | 'neq' | 'exists' | 'notexists' | 'in' | 'notin';
  values: string[];
};

type FieldRequirement = { path: string[]; value: string; negate: boolean };

type Filter = {
  ns: string | undefined;
  labels: Requirement[];
  fields: FieldRequirement[];
};

type Watcher = {
  bucket: Bucket;
  filter: Filter;
  res: ServerResponse;
  bookmarks: boolean;
  timer: NodeJS.Timeout | undefined;
};

type Hold = { release: () => void };

type ResourcePath = {
  bucket: Bucket;
  ns: string | undefined;
  name: string | undefined;
  sub: string | undefined;
};

const SEP = '\u0000';
const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS_REASONS: Record<number, [string, string]> = {
  400: ['BadRequest', 'bad request'],
  401: ['Unauthorized', 'Unauthorized'],
  403: ['Forbidden', 'forbidden: User "system:anonymous" cannot perform this action'],
  404: ['NotFound', 'the server could not find the requested resource'],
  405: ['MethodNotAllowed', 'the server does not allow this method on the requested resource'],
  409: [
    'Conflict',
    'the object has been modified; please apply your changes to the latest version and try again',
  ],
  410: ['Expired', 'the resource version is too old'],
  415: ['UnsupportedMediaType', 'the body of the request was in an unknown format'],
  422: ['Invalid', 'the request is invalid'],
  429: ['TooManyRequests', 'the server has received too many requests and has asked us to try again later'],
  500: ['InternalError', 'an error on the server ("") has prevented the request from succeeding'],
  503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
  504: ['Timeout', 'the server was unable to return a response in the time allotted'],
};

const BUILTIN_RESOURCES: ResourceDef[] = [
  res('', 'v1', 'pods', 'Pod', true, ['po'], ['all'], ['status']),
  res('', 'v1', 'namespaces', 'Namespace', false, ['ns'], [], ['status']),
  res('apps', 'v1', 'deployments', 'Deployment', true, ['deploy'], ['all'], ['status', 'scale']),
  res('apps', 'v1', 'replicasets', 'ReplicaSet', true, ['rs'], ['all'], ['status', 'scale']),
  res('apps', 'v1', 'statefulsets', 'StatefulSet', true, ['sts'], ['all'], ['status', 'scale']),
  res('apps', 'v1', 'daemonsets', 'DaemonSet', true, ['ds'], ['all'], ['status']),
  res('batch', 'v1', 'jobs', 'Job', true, [], ['all'], ['status']),
  res('batch', 'v1', 'cronjobs', 'CronJob', true, ['cj'], ['all'], ['status']),
];

function res(
  group: string,
  version: string,
  plural: string,
  kind: string,
  namespaced: boolean,
  shortNames: string[],
  categories: string[],
  subresources: ('status' | 'scale')[],
): ResourceDef {
  return {
    group,
    version,
    plural,
    singular: kind.toLowerCase(),
    kind,
    namespaced,
    shortNames,
    categories,
    subresources,
  };
}

let clusterCounter = 0;

/**
 * The few server-side checks the freeze path depends on: custom resources reject strategic merge patches
 * (415), and a StatefulSet/DaemonSet cannot be OnDelete while rollingUpdate is still set (422).
 */
function validateWorkload(
  def: ResourceDef,
  obj: KubeObject,
  method: string,
  contentType: string,
): { code: number; message: string } | undefined {
  const builtIn = BUILTIN_RESOURCES.some((r) => r.group === def.group && r.plural === def.plural);
  if (method === 'PATCH' && !builtIn && contentType.startsWith('application/strategic-merge-patch+json')) {
    return {
      code: 415,
      message:
        'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    };
  }
  if (def.kind === 'StatefulSet' || def.kind === 'DaemonSet') {
    const spec = obj.spec as { updateStrategy?: { type?: string; rollingUpdate?: unknown } } | undefined;
    const s = spec?.updateStrategy;
    if (s?.type === 'OnDelete' && s.rollingUpdate !== undefined && s.rollingUpdate !== null) {
      return {
        code: 422,
        message: `${def.kind} "${obj.metadata.name}" is invalid: spec.updateStrategy.rollingUpdate: Forbidden: only allowed for updateStrategy 'RollingUpdate'`,
      };
    }
  }
  return undefined;
}

/** Starts a fake API server on 127.0.0.1 with a random port. */
export async function startFakeKube(opts: FakeKubeOptions = {}): Promise<FakeKube> {
  const fake = new FakeKube(opts);
  await fake.listen();
  return fake;
}

/** Kubeconfig YAML with one cluster, user and context per fake (each named after the fake); first is current. */
export function multiKubeconfigYaml(fakes: readonly FakeKube[]): string {
  if (fakes.length === 0) throw new Error('multiKubeconfigYaml needs at least one cluster');
  const q = (s: string) => JSON.stringify(s);
  const lines = ['apiVersion: v1', 'kind: Config', 'preferences: {}', 'clusters:'];
  for (const f of fakes) {
    lines.push(`- name: ${q(f.name)}`, '  cluster:', `    server: ${q(f.url)}`);
    const ca = f.caPem;
    if (ca) lines.push(`    certificate-authority-data: ${q(Buffer.from(ca).toString('base64'))}`);
    else lines.push('    insecure-skip-tls-verify: true');
  }
  lines.push('users:');
  for (const f of fakes) {
    lines.push(`- name: ${q(f.name)}`, '  user:', `    token: ${q(f.token)}`);
  }
  lines.push('contexts:');
  for (const f of fakes) {
    lines.push(
      `- name: ${q(f.name)}`,
      '  context:',
      `    cluster: ${q(f.name)}`,
      `    user: ${q(f.name)}`,
      '    namespace: default',
    );
  }
  lines.push(`current-context: ${q(fakes[0]!.name)}`, '');
  return lines.join('\n');
}

/** Writes one kubeconfig file holding a context per fake; returns the path. */
export async function writeMultiKubeconfig(path: string, fakes: readonly FakeKube[]): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, multiKubeconfigYaml(fakes), { mode: 0o600 });
  return path;
}

/** A protocol-level fake Kubernetes API server: real paths, lists, pagination, watches, patches, faults. */
export class FakeKube {
  static writeMultiKubeconfig = writeMultiKubeconfig;

  readonly name: string;
  readonly token: string;
  /** PEM of the self-signed serving certificate (also the CA to trust); undefined for plain HTTP. */
  readonly caPem: string | undefined;
  /** Most recent requests (capped); see `counters` for totals. */
  readonly requests: RequestRecord[] = [];
  readonly counters: FakeKubeCounters = {
    total: 0,
    discovery: 0,
    list: 0,
    get: 0,
    watch: 0,
    create: 0,
    update: 0,
    patch: 0,
    delete: 0,
    unauthorized: 0,
    faults: 0,
  };

  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly byKind = new Map<string, Bucket>();
  private readonly watchers = new Set<Watcher>();
  private readonly holds = new Set<Hold>();
  private faults: (FaultSpec & { remaining: number })[] = [];
  private history: HistoryEvent[] = [];
  private rv = 1;
  private compactedRv = 1;
  private port = 0;
  private closed = false;
  private bookmarkTimer: NodeJS.Timeout | undefined;
  private readonly historyLimit: number;
  private readonly requestLogLimit: number;
  private readonly bookmarkIntervalMs: number;
  private readonly serverVersion: { major: string; minor: string };

  constructor(opts: FakeKubeOptions = {}) {
    clusterCounter += 1;
    this.name = opts.name ?? `fake-${clusterCounter}`;
    this.token = opts.token ?? `fake-token-${randomBytes(12).toString('hex')}`;
    this.historyLimit = opts.historyLimit ?? 200_000;
    this.requestLogLimit = opts.requestLogLimit ?? 10_000;
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 0;
    this.serverVersion = opts.serverVersion ?? { major: '1', minor: '31' };
    for (const def of BUILTIN_RESOURCES) this.addResource(def);
    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          this.sendStatus(res, 500, String(err instanceof Error ? err.message : err));
        } else {
          res.destroy();
        }
      });
    };
    if (opts.tls === false) {
      this.caPem = undefined;
      this.server = createServer(onRequest);
    } else {
      const { certPem, keyPem } = servingCertificate();
      this.caPem = certPem;
      this.server = createHttpsServer({ cert: certPem, key: keyPem }, onRequest);
    }
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** `https://127.0.0.1:PORT` (or `http://` without TLS), valid after `startFakeKube` resolves. */
  get url(): string {
    return `${this.caPem ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** The cluster-wide resourceVersion counter, as the string the API reports. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Number of watch streams currently open. */
  get activeWatches(): number {
    return this.watchers.size;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('fake kube: no port');
    this.port = addr.port;
    if (this.bookmarkIntervalMs > 0) {
      this.bookmarkTimer = setInterval(() => this.sendBookmark(), this.bookmarkIntervalMs);
      this.bookmarkTimer.unref();
    }
  }

  /** Stops serving and tears down every socket, including hanging requests and open watches. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    for (const w of this.watchers) if (w.timer) clearTimeout(w.timer);
    this.watchers.clear();
    for (const h of [...this.holds]) h.release();
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await done;
  }

  kubeconfigYaml(): string {
    return multiKubeconfigYaml([this]);
  }

  /** Writes `<dir>/<name>.kubeconfig` and returns its path. */
  async writeKubeconfig(dir: string): Promise<string> {
    return writeMultiKubeconfig(join(dir, `${this.name}.kubeconfig`), [this]);
  }

  registerCustomResource(spec: CustomResourceSpec): ResourceDef {
    const def: ResourceDef = {
      group: spec.group,
      version: spec.version,
      plural: spec.plural,
      singular: spec.singular ?? spec.kind.toLowerCase(),
      kind: spec.kind,
      namespaced: spec.namespaced,
      shortNames: spec.shortNames ?? [],
      categories: spec.categories ?? [],
      subresources: [],
    };
    this.addResource(def);
    return def;
  }

  setFault(fault: FaultSpec): void {
    this.faults.push({ ...fault, remaining: fault.times ?? Number.POSITIVE_INFINITY });
  }

  /** Removes all faults and lets hanging or delayed requests proceed normally right away. */
  clearFaults(): void {
    this.faults = [];
    for (const h of [...this.holds]) h.release();
  }

  resetRequests(): void {
    this.requests.length = 0;
    for (const k of Object.keys(this.counters) as (keyof FakeKubeCounters)[]) this.counters[k] = 0;
  }

  /** Stores a new object (cloned); assigns uid, creationTimestamp and resourceVersion. Throws if it exists. */
  create(obj: KubeObject): KubeObject {
    const bucket = this.bucketFor(obj.apiVersion, obj.kind);
    const entry = this.insert(bucket, structuredClone(obj), nowTimestamp(), true);
    return cloneEntry(entry);
  }

  /** Replaces an existing object (cloned), keeping uid/creationTimestamp when absent; records MODIFIED. */
  update(obj: KubeObject): KubeObject {
    const bucket = this.bucketFor(obj.apiVersion, obj.kind);
    const next = structuredClone(obj);
    const ns = this.nsFor(bucket, next);
    const prev = bucket.items.get(entryKey(ns, next.metadata.name));
    if (!prev) throw new Error(`fake kube: ${obj.kind} ${ns}/${obj.metadata.name} does not exist`);
    return cloneEntry(this.replace(bucket, prev, next));
  }

  /** Creates or replaces. */
  upsert(obj: KubeObject): KubeObject {
    const bucket = this.bucketFor(obj.apiVersion, obj.kind);
    const ns = this.nsFor(bucket, obj);
    return bucket.items.has(entryKey(ns, obj.metadata.name)) ? this.update(obj) : this.create(obj);
  }

  /** Deletes an object and records DELETED; returns false when it did not exist. */
  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): boolean {
    const bucket = this.bucketFor(apiVersion, kind);
    const entry = bucket.items.get(entryKey(bucket.def.namespaced ? (namespace ?? '') : '', name));
    if (!entry) return false;
    this.delete(bucket, entry);
    return true;
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const bucket = this.bucketFor(apiVersion, kind);
    const entry = bucket.items.get(entryKey(bucket.def.namespaced ? (namespace ?? '') : '', name));
    return entry ? cloneEntry(entry) : undefined;
  }

  /** Copies of stored objects in (namespace, name) order, optionally within one namespace. */
  list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
    const bucket = this.bucketFor(apiVersion, kind);
    const [from, to] = this.range(bucket, namespace);
    const keys = this.sortedKeys(bucket);
    const out: KubeObject[] = [];
    for (let i = from; i < to; i++) out.push(cloneEntry(bucket.items.get(keys[i]!)!));
    return out;
  }

  count(apiVersion: string, kind: string): number {
    return this.bucketFor(apiVersion, kind).items.size;
  }

  /**
   * Bulk insert for benchmarks: O(n), no cloning (the store takes ownership of the objects; do not mutate
   * them afterwards). Existing objects with the same key are replaced. Records ADDED/MODIFIED events.
   */
  load(objects: readonly KubeObject[]): void {
    const now = nowTimestamp();
    for (const obj of objects) {
      const bucket = this.bucketFor(obj.apiVersion, obj.kind);
      const ns = this.nsFor(bucket, obj);
      const prev = bucket.items.get(entryKey(ns, obj.metadata.name));
      if (prev) {
        this.replace(bucket, prev, obj);
      } else {
        this.insert(bucket, obj, now, false);
      }
    }
  }

  /** Drops all watch history up to now: watches from an older resourceVersion and older continue tokens get 410. */
  compact(): void {
    this.history = [];
    this.compactedRv = this.rv;
  }

  /** Sends a BOOKMARK at the current resourceVersion to every watch that asked for bookmarks. */
  sendBookmark(): void {
    for (const w of this.watchers) if (w.bookmarks) this.writeBookmark(w, undefined);
  }

  /** Ends every open watch cleanly from the server side (what an API server does on its own timeout). */
  dropWatches(): void {
    for (const w of [...this.watchers]) this.endWatch(w);
  }

  private addResource(def: ResourceDef): void {
    const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
    const bucket: Bucket = { def, apiVersion, items: new Map(), sorted: [] };
    this.buckets.set(`${def.group}/${def.version}/${def.plural}`, bucket);
    this.byKind.set(`${apiVersion}|${def.kind}`, bucket);
  }

  private bucketFor(apiVersion: string, kind: string): Bucket {
    const b = this.byKind.get(`${apiVersion}|${kind}`);
    if (!b) throw new Error(`fake kube: unknown resource ${apiVersion} ${kind}`);
    return b;
  }

  private nsFor(bucket: Bucket, obj: KubeObject): string {
    if (!bucket.def.namespaced) return '';
    return typeof obj.metadata.namespace === 'string' && obj.metadata.namespace
      ? obj.metadata.namespace
      : 'default';
  }

  private nextRv(): number {
    this.rv += 1;
    return this.rv;
  }

  private insert(bucket: Bucket, obj: KubeObject, now: string, keepSorted: boolean): Entry {
    const meta = obj.metadata;
    if (!meta || typeof meta !== 'object') throw new Error('fake kube: object has no metadata');
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    if (!meta.name) throw new Error('fake kube: object has no metadata.name');
    const ns = this.nsFor(bucket, obj);
    if (bucket.def.namespaced) meta.namespace = ns;
    else delete meta.namespace;
    const key = entryKey(ns, meta.name);
    if (bucket.items.has(key)) throw new Error(`fake kube: ${obj.kind} ${ns}/${meta.name} already exists`);
    meta.uid ??= randomUUID();
    meta.creationTimestamp ??= now;
    if (meta.generation === undefined && 'spec' in obj && bucket.def.kind !== 'Namespace')
      meta.generation = 1;
    const rv = this.nextRv();
    meta.resourceVersion = String(rv);
    const entry: Entry = { obj, json: undefined, key, ns };
    bucket.items.set(key, entry);
    if (keepSorted && bucket.sorted) bucket.sorted.splice(upperBound(bucket.sorted, key), 0, key);
    else if (!keepSorted) bucket.sorted = undefined;
    this.record(rv, 'ADDED', bucket, entry, undefined);
    return entry;
  }

  private replace(bucket: Bucket, prev: Entry, next: KubeObject): Entry {
    const meta = next.metadata;
    const old = prev.obj.metadata;
    meta.name = old.name;
    if (bucket.def.namespaced) meta.namespace = prev.ns;
    else delete meta.namespace;
    meta.uid ??= old.uid;
    meta.creationTimestamp ??= old.creationTimestamp;
    if (old.generation !== undefined) {
      const specChanged = JSON.stringify(next.spec) !== JSON.stringify(prev.obj.spec);
      meta.generation = specChanged ? old.generation + 1 : old.generation;
    }
    const rv = this.nextRv();
    meta.resourceVersion = String(rv);
    const entry: Entry = { obj: next, json: undefined, key: prev.key, ns: prev.ns };
    bucket.items.set(prev.key, entry);
    this.record(rv, 'MODIFIED', bucket, entry, prev);
    return entry;
  }

  private delete(bucket: Bucket, prev: Entry): Entry {
    bucket.items.delete(prev.key);
    if (bucket.sorted) {
      const i = lowerBound(bucket.sorted, prev.key);
      if (bucket.sorted[i] === prev.key) bucket.sorted.splice(i, 1);
    }
    const rv = this.nextRv();
    const obj: KubeObject = { ...prev.obj, metadata: { ...prev.obj.metadata, resourceVersion: String(rv) } };
    const entry: Entry = { obj, json: undefined, key: prev.key, ns: prev.ns };
    this.record(rv, 'DELETED', bucket, entry, prev);
    return entry;
  }

  private record(
    rv: number,
    type: WatchEventType,
    bucket: Bucket,
    entry: Entry,
    prev: Entry | undefined,
  ): void {
    const ev: HistoryEvent = { rv, type, bucket, entry, prev };
    this.history.push(ev);
    if (this.history.length > this.historyLimit + 1024) {
      const drop = this.history.length - this.historyLimit;
      this.compactedRv = this.history[drop - 1]!.rv;
      this.history.splice(0, drop);
    }
    if (this.watchers.size === 0) return;
    for (const w of this.watchers) if (w.bucket === bucket) this.deliver(w, ev);
  }

  private sortedKeys(bucket: Bucket): string[] {
    if (!bucket.sorted) bucket.sorted = Array.from(bucket.items.keys()).sort();
    return bucket.sorted;
  }

  /** Index range [from, to) of the sorted keys inside one namespace (or everything). */
  private range(bucket: Bucket, ns: string | undefined): [number, number] {
    const keys = this.sortedKeys(bucket);
    if (ns === undefined || !bucket.def.namespaced) return [0, keys.length];
    return [lowerBound(keys, `${ns}${SEP}`), lowerBound(keys, `${ns}\u0001`)];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const rec: RequestRecord = { method, path, query };
    this.logRequest(rec);
    res.on('finish', () => {
      rec.status = res.statusCode;
    });

    const fault = this.takeFault(method, path);
    const holdAfterApply = fault?.hangAfterApply === true;
    if (fault && !holdAfterApply) {
      this.counters.faults += 1;
      if (fault.hang) await this.hold();
      if (fault.delayMs) await this.sleep(fault.delayMs);
      if (this.closed || res.destroyed) return;
      if (fault.status) {
        this.sendStatus(res, fault.status, fault.message);
        return;
      }
    }

    if (path === '/healthz' || path === '/livez' || path === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      return;
    }
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      this.counters.unauthorized += 1;
      this.sendStatus(res, 401);
      return;
    }

    const body = method === 'POST' || method === 'PUT' || method === 'PATCH' ? await readBody(req) : '';
    if (body !== '') {
      rec.body = body;
      rec.contentType = req.headers['content-type'] ?? '';
    }
    if (this.closed || res.destroyed) return;
    const segs = path.split('/').filter(Boolean);
    if (this.serveDiscovery(segs, method, res)) return;

    let rp: ResourcePath | undefined;
    if (segs[0] === 'api' && segs[1] === 'v1' && segs.length > 2)
      rp = this.parseResourcePath('', 'v1', segs.slice(2));
    else if (segs[0] === 'apis' && segs.length > 3)
      rp = this.parseResourcePath(segs[1]!, segs[2]!, segs.slice(3));
    if (!rp) {
      this.sendStatus(res, 404);
      return;
    }
    if (holdAfterApply) {
      this.counters.faults += 1;
      this.heldResponses.add(res);
    }
    this.serveResource(req, res, method, url.searchParams, rp, body);
  }

  /** Responses whose write was applied but whose answer is held (`hangAfterApply`). */
  private heldResponses = new WeakSet<ServerResponse>();

  /** Writes that landed are answered only after `clearFaults()` when their fault said `hangAfterApply`. */
  private respondWrite(res: ServerResponse, body: string): void {
    if (!this.heldResponses.has(res)) {
      sendJson(res, 200, body);
      return;
    }
    void this.hold().then(() => {
      if (!this.closed && !res.destroyed) sendJson(res, 200, body);
    });
  }

  private logRequest(rec: RequestRecord): void {
    this.counters.total += 1;
    this.requests.push(rec);
    if (this.requests.length > this.requestLogLimit) {
      this.requests.splice(0, this.requests.length - this.requestLogLimit);
    }
  }

  private takeFault(method: string, path: string): FaultSpec | undefined {
    for (const f of this.faults) {
      if (f.remaining <= 0) continue;
      if (f.pathIncludes !== undefined && !path.includes(f.pathIncludes)) continue;
      if (f.method !== undefined && f.method.toUpperCase() !== method) continue;
      f.remaining -= 1;
      if (f.remaining <= 0) this.faults = this.faults.filter((x) => x !== f);
      return f;
    }
    return undefined;
  }

  private hold(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const h: Hold = {
        release: () => {
          this.holds.delete(h);
          resolve();
        },
      };
      this.holds.add(h);
    });
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const h: Hold = {
        release: () => {
          clearTimeout(timer);
          this.holds.delete(h);
          resolve();
        },
      };
      const timer = setTimeout(h.release, ms);
      this.holds.add(h);
    });
  }

  private parseResourcePath(group: string, version: string, segs: string[]): ResourcePath | undefined {
    let ns: string | undefined;
    let rest = segs;
    if (segs[0] === 'namespaces' && segs.length >= 3) {
      ns = segs[1];
      rest = segs.slice(2);
    }
    const bucket = this.buckets.get(`${group}/${version}/${rest[0]}`);
    if (!bucket || rest.length > 3) return undefined;
    if (ns !== undefined && !bucket.def.namespaced) return undefined;
    const name = rest[1];
    const sub = rest[2];
    if (name !== undefined && ns === undefined && bucket.def.namespaced) return undefined;
    if (sub !== undefined && !(bucket.def.subresources as string[]).includes(sub)) return undefined;
    return { bucket, ns, name, sub };
  }

  private serveResource(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    params: URLSearchParams,
    rp: ResourcePath,
    body: string,
  ): void {
    const { bucket, ns, name, sub } = rp;
    const watch = params.get('watch');
    const isWatch = watch === 'true' || watch === '1';
    let filter: Filter;
    try {
      filter = {
        ns,
        labels: parseLabelSelector(params.get('labelSelector') ?? ''),
        fields: parseFieldSelector(params.get('fieldSelector') ?? ''),
      };
    } catch (err) {
      this.sendStatus(res, 400, (err as Error).message);
      return;
    }
    if (name === undefined) {
      if (method === 'GET' && isWatch) {
        this.counters.watch += 1;
        this.serveWatch(res, bucket, filter, params);
        return;
      }
      if (method === 'GET') {
        this.counters.list += 1;
        this.serveList(req, res, bucket, filter, params);
        return;
      }
      if (method === 'POST') {
        this.counters.create += 1;
        this.serveCreate(res, bucket, ns, body, params);
        return;
      }
      if (method === 'DELETE') {
        this.counters.delete += 1;
        this.serveDeleteCollection(res, bucket, filter, params);
        return;
      }
      this.sendStatus(res, 405);
      return;
    }
    const key = entryKey(ns ?? '', name);
    if (method === 'GET' && isWatch) {
      this.counters.watch += 1;
      filter.fields.push({ path: ['metadata', 'name'], value: name, negate: false });
      this.serveWatch(res, bucket, filter, params);
      return;
    }
    const entry = bucket.items.get(key);
    if (!entry) {
      this.sendStatus(
        res,
        404,
        `${bucket.def.plural}${bucket.def.group ? `.${bucket.def.group}` : ''} "${name}" not found`,
        {
          name,
          group: bucket.def.group,
          kind: bucket.def.plural,
        },
      );
      return;
    }
    const dryRun = params.get('dryRun') === 'All';
    switch (method) {
      case 'GET':
        this.counters.get += 1;
        if (sub === 'scale') sendJson(res, 200, JSON.stringify(toScale(entry.obj)));
        else sendJson(res, 200, entryJson(entry));
        return;
      case 'PUT':
      case 'PATCH': {
        if (method === 'PUT') this.counters.update += 1;
        else this.counters.patch += 1;
        let patched: KubeObject;
        try {
          patched = this.computeWrite(entry.obj, method, sub, body, req.headers['content-type'] ?? '');
        } catch (err) {
          const e = err as Error & { code?: number };
          this.sendStatus(res, e.code ?? 422, e.message);
          return;
        }
        const wanted = patched.metadata?.resourceVersion;
        if (wanted !== undefined && wanted !== '' && wanted !== entry.obj.metadata.resourceVersion) {
          this.sendStatus(
            res,
            409,
            `Operation cannot be fulfilled on ${bucket.def.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
            { name, group: bucket.def.group, kind: bucket.def.plural },
          );
          return;
        }
        patched.metadata.resourceVersion = entry.obj.metadata.resourceVersion;
        patched.apiVersion = bucket.apiVersion;
        patched.kind = bucket.def.kind;
        const invalid = validateWorkload(bucket.def, patched, method, req.headers['content-type'] ?? '');
        if (invalid) {
          this.sendStatus(res, invalid.code, invalid.message);
          return;
        }
        const unchanged = JSON.stringify(patched) === entryJson(entry);
        const out = unchanged || dryRun ? patched : this.replace(bucket, entry, patched).obj;
        this.respondWrite(res, JSON.stringify(sub === 'scale' ? toScale(out) : out));
        return;
      }
      case 'DELETE': {
        this.counters.delete += 1;
        if (dryRun) {
          sendJson(res, 200, entryJson(entry));
          return;
        }
        const gone = this.delete(bucket, entry);
        if (bucket.def.kind === 'Pod') sendJson(res, 200, entryJson(gone));
        else
          sendJson(
            res,
            200,
            JSON.stringify({
              kind: 'Status',
              apiVersion: 'v1',
              metadata: {},
              status: 'Success',
              details: {
                name,
                group: bucket.def.group,
                kind: bucket.def.plural,
                uid: entry.obj.metadata.uid,
              },
            }),
          );
        return;
      }
      default:
        this.sendStatus(res, 405);
    }
  }

  private computeWrite(
    current: KubeObject,
    method: string,
    sub: string | undefined,
    body: string,
    ctype: string,
  ): KubeObject {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw Object.assign(new Error('request body is not valid JSON'), { code: 400 });
    }
    const base: unknown = sub === 'scale' ? toScale(current) : current;
    let next: unknown;
    if (method === 'PUT') {
      next = parsed;
    } else {
      const type = ctype.split(';')[0]!.trim().toLowerCase();
      if (type === 'application/json-patch+json') next = applyJsonPatch(base, parsed);
      else if (type === 'application/merge-patch+json') next = mergePatch(base, parsed, false);
      else if (type === 'application/strategic-merge-patch+json') next = mergePatch(base, parsed, true);
      else
        throw Object.assign(
          new Error(
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
          ),
          { code: 415 },
        );
    }
    if (!isPlainObject(next) || !isPlainObject(next.metadata)) {
      throw Object.assign(new Error('the result is not a valid object'), { code: 422 });
    }
    if (sub === 'scale') {
      const spec = isPlainObject(next.spec) ? next.spec : {};
      const replicas = spec.replicas;
      const copy = structuredClone(current);
      copy.spec = { ...(isPlainObject(copy.spec) ? copy.spec : {}), replicas };
      copy.metadata.resourceVersion = (next.metadata as KubeMetadata).resourceVersion;
      return copy;
    }
    const obj = next as KubeObject;
    if (sub === 'status') {
      return {
        ...current,
        metadata: { ...current.metadata, resourceVersion: obj.metadata.resourceVersion },
        status: obj.status,
      };
    }
    if (method === 'PUT' && obj.metadata.name !== current.metadata.name) {
      throw Object.assign(new Error('the name of the object does not match the name on the URL'), {
        code: 400,
      });
    }
    obj.metadata.name = current.metadata.name;
    obj.metadata.uid = current.metadata.uid;
    obj.metadata.creationTimestamp = current.metadata.creationTimestamp;
    if (
      method === 'PATCH' &&
      !(isPlainObject(parsed) && isPlainObject(parsed.metadata) && 'resourceVersion' in parsed.metadata)
    ) {
      delete obj.metadata.resourceVersion;
    }
    return obj;
  }

  private serveCreate(
    res: ServerResponse,
    bucket: Bucket,
    ns: string | undefined,
    body: string,
    params: URLSearchParams,
  ): void {
    let obj: KubeObject;
    try {
      obj = JSON.parse(body) as KubeObject;
    } catch {
      this.sendStatus(res, 400, 'request body is not valid JSON');
      return;
    }
    if (!isPlainObject(obj) || !isPlainObject(obj.metadata)) {
      this.sendStatus(res, 422, 'metadata is required');
      return;
    }
    if (bucket.def.namespaced) {
      if (obj.metadata.namespace && ns !== undefined && obj.metadata.namespace !== ns) {
        this.sendStatus(
          res,
          400,
          'the namespace of the provided object does not match the namespace sent on the request',
        );
        return;
      }
      if (ns === undefined) {
        this.sendStatus(res, 405);
        return;
      }
      obj.metadata.namespace = ns;
    }
    obj.apiVersion = bucket.apiVersion;
    obj.kind = bucket.def.kind;
    if (!obj.metadata.name && obj.metadata.generateName)
      obj.metadata.name = `${obj.metadata.generateName}${randomSuffix()}`;
    if (!obj.metadata.name) {
      this.sendStatus(res, 422, 'name or generateName is required');
      return;
    }
    if (bucket.items.has(entryKey(ns ?? '', obj.metadata.name))) {
      this.sendStatus(
        res,
        409,
        `${bucket.def.plural} "${obj.metadata.name}" already exists`,
        {
          name: obj.metadata.name,
          group: bucket.def.group,
          kind: bucket.def.plural,
        },
        'AlreadyExists',
      );
      return;
    }
    delete obj.metadata.resourceVersion;
    if (params.get('dryRun') === 'All') {
      sendJson(res, 201, JSON.stringify(obj));
      return;
    }
    const entry = this.insert(bucket, obj, nowTimestamp(), true);
    sendJson(res, 201, entryJson(entry));
  }

  private serveDeleteCollection(
    res: ServerResponse,
    bucket: Bucket,
    filter: Filter,
    params: URLSearchParams,
  ): void {
    const [from, to] = this.range(bucket, filter.ns);
    const keys = this.sortedKeys(bucket).slice(from, to);
    const gone: string[] = [];
    for (const k of keys) {
      const e = bucket.items.get(k)!;
      if (!matches(e.obj, filter)) continue;
      if (params.get('dryRun') !== 'All') gone.push(entryJson(this.delete(bucket, e)));
      else gone.push(entryJson(e));
    }
    sendJson(res, 200, listJson(bucket, String(this.rv), undefined, undefined, gone));
  }

  private serveList(
    req: IncomingMessage,
    res: ServerResponse,
    bucket: Bucket,
    filter: Filter,
    params: URLSearchParams,
  ): void {
    const limitRaw = Number.parseInt(params.get('limit') ?? '0', 10);
    const limit = Number.isFinite(limitRaw) && limitRaw > 0 ? limitRaw : 0;
    const cont = params.get('continue') ?? '';
    let snapshotRv = this.rv;
    const keys = this.sortedKeys(bucket);
    let [from, to] = this.range(bucket, filter.ns);
    if (cont) {
      const token = decodeContinue(cont);
      if (!token) {
        this.sendStatus(
          res,
          400,
          'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
        );
        return;
      }
      if (token.rv < this.compactedRv) {
        const fresh = encodeContinue(this.rv, token.start);
        this.sendStatus(
          res,
          410,
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
          undefined,
          'Expired',
          { continue: fresh },
        );
        return;
      }
      snapshotRv = token.rv;
      from = Math.max(from, upperBound(keys, token.start));
    }
    const filtered = filter.labels.length > 0 || filter.fields.length > 0;
    const page: Entry[] = [];
    let i = from;
    for (; i < to && (limit === 0 || page.length < limit); i++) {
      const e = bucket.items.get(keys[i]!)!;
      if (!filtered || matches(e.obj, filter)) page.push(e);
    }
    let next: string | undefined;
    let remaining: number | undefined;
    if (i < to && page.length > 0) {
      next = encodeContinue(snapshotRv, page[page.length - 1]!.key);
      if (!filtered) remaining = to - i;
    }
    const accept = req.headers.accept ?? '';
    if (accept.includes('as=Table')) {
      sendJson(
        res,
        200,
        tableJson(
          bucket,
          page,
          String(snapshotRv),
          next,
          remaining,
          params.get('includeObject') ?? 'Metadata',
        ),
      );
      return;
    }
    sendJson(res, 200, listJson(bucket, String(snapshotRv), next, remaining, page.map(entryJson)));
  }

  private serveWatch(res: ServerResponse, bucket: Bucket, filter: Filter, params: URLSearchParams): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const rvParam = params.get('resourceVersion') ?? '';
    const w: Watcher = {
      bucket,
      filter,
      res,
      bookmarks: params.get('allowWatchBookmarks') === 'true',
      timer: undefined,
    };
    const initial = params.get('sendInitialEvents') === 'true' || rvParam === '' || rvParam === '0';
    if (!initial) {
      const from = Number(rvParam);
      if (!Number.isInteger(from) || from < 0) {
        res.end(watchErrorLine(400, 'BadRequest', `invalid resource version "${rvParam}"`));
        return;
      }
      if (from < this.compactedRv) {
        res.end(watchErrorLine(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`));
        return;
      }
      const start = upperBoundRv(this.history, from);
      for (let i = start; i < this.history.length; i++) {
        const ev = this.history[i]!;
        if (ev.bucket === bucket) this.deliver(w, ev);
      }
    } else {
      const [from, to] = this.range(bucket, filter.ns);
      const keys = this.sortedKeys(bucket);
      for (let i = from; i < to; i++) {
        const e = bucket.items.get(keys[i]!)!;
        if (matches(e.obj, filter)) res.write(`{"type":"ADDED","object":${entryJson(e)}}\n`);
      }
      if (params.get('sendInitialEvents') === 'true' && w.bookmarks) {
        this.writeBookmark(w, { 'k8s.io/initial-events-end': 'true' });
      }
    }
    this.watchers.add(w);
    const timeout = Number.parseInt(params.get('timeoutSeconds') ?? '0', 10);
    if (timeout > 0) w.timer = setTimeout(() => this.endWatch(w), timeout * 1000);
    const cleanup = () => {
      if (w.timer) clearTimeout(w.timer);
      this.watchers.delete(w);
    };
    res.on('close', cleanup);
  }

  private deliver(w: Watcher, ev: HistoryEvent): void {
    if (w.res.destroyed || w.res.writableEnded) return;
    if (w.filter.ns !== undefined && ev.entry.ns !== w.filter.ns) return;
    const now = matches(ev.entry.obj, w.filter);
    let type: WatchEventType = ev.type;
    if (ev.type === 'MODIFIED') {
      const before = ev.prev ? matches(ev.prev.obj, w.filter) : false;
      if (!before && !now) return;
      if (!before) type = 'ADDED';
      else if (!now) type = 'DELETED';
    } else if (!now) {
      return;
    }
    w.res.write(`{"type":"${type}","object":${entryJson(ev.entry)}}\n`);
  }

  private writeBookmark(w: Watcher, annotations: Record<string, string> | undefined): void {
    if (w.res.destroyed || w.res.writableEnded) return;
    const metadata: Record<string, unknown> = { resourceVersion: String(this.rv) };
    if (annotations) metadata.annotations = annotations;
    const object = { kind: w.bucket.def.kind, apiVersion: w.bucket.apiVersion, metadata };
    w.res.write(`${JSON.stringify({ type: 'BOOKMARK', object })}\n`);
  }

  private endWatch(w: Watcher): void {
    if (w.timer) clearTimeout(w.timer);
    this.watchers.delete(w);
    if (!w.res.destroyed) w.res.end();
  }

  private serveDiscovery(segs: string[], method: string, res: ServerResponse): boolean {
    if (method !== 'GET') return false;
    const send = (body: unknown) => {
      this.counters.discovery += 1;
      sendJson(res, 200, JSON.stringify(body));
      return true;
    };
    const [a, b, c] = segs;
    if (segs.length === 1 && a === 'version') {
      const { major, minor } = this.serverVersion;
      return send({
        major,
        minor,
        gitVersion: `v${major}.${minor}.0-fake`,
        gitCommit: '0000000000000000000000000000000000000000',
        gitTreeState: 'clean',
        buildDate: '2025-01-01T00:00:00Z',
        goVersion: 'go1.23.0',
        compiler: 'gc',
        platform: 'linux/amd64',
      });
    }
    if (a === 'openapi') {
      this.sendStatus(res, 404);
      return true;
    }
    if (segs.length === 1 && a === 'api') {
      return send({
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }],
      });
    }
    if (segs.length === 2 && a === 'api' && b === 'v1') return send(this.resourceList('', 'v1'));
    if (segs.length === 1 && a === 'apis') {
      return send({ kind: 'APIGroupList', apiVersion: 'v1', groups: this.groups() });
    }
    if (segs.length === 2 && a === 'apis') {
      const g = this.groups().find((x) => x.name === b);
      if (!g) return false;
      return send({ kind: 'APIGroup', apiVersion: 'v1', ...g });
    }
    if (segs.length === 3 && a === 'apis' && b !== undefined && c !== undefined) {
      const list = this.resourceList(b, c);
      if (list.resources.length === 0) return false;
      return send(list);
    }
    return false;
  }

  private groups(): {
    name: string;
    versions: { groupVersion: string; version: string }[];
    preferredVersion: { groupVersion: string; version: string };
  }[] {
    const byGroup = new Map<string, string[]>();
    for (const { def } of this.buckets.values()) {
      if (!def.group) continue;
      const versions = byGroup.get(def.group) ?? [];
      if (!versions.includes(def.version)) versions.push(def.version);
      byGroup.set(def.group, versions);
    }
    return [...byGroup].map(([name, versions]) => {
      const vs = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
      return { name, versions: vs, preferredVersion: vs[0]! };
    });
  }

  private resourceList(
    group: string,
    version: string,
  ): { kind: string; apiVersion: string; groupVersion: string; resources: unknown[] } {
    const resources: unknown[] = [];
    for (const { def } of this.buckets.values()) {
      if (def.group !== group || def.version !== version) continue;
      const main: Record<string, unknown> = {
        name: def.plural,
        singularName: def.singular,
        namespaced: def.namespaced,
        kind: def.kind,
        verbs: def.namespaced ? ALL_VERBS : ALL_VERBS.filter((v) => v !== 'deletecollection'),
      };
      if (def.shortNames.length > 0) main.shortNames = def.shortNames;
      if (def.categories.length > 0) main.categories = def.categories;
      resources.push(main);
      for (const sub of def.subresources) {
        const entry: Record<string, unknown> = {
          name: `${def.plural}/${sub}`,
          singularName: '',
          namespaced: def.namespaced,
          kind: sub === 'scale' ? 'Scale' : def.kind,
          verbs: ['get', 'patch', 'update'],
        };
        if (sub === 'scale') Object.assign(entry, { group: 'autoscaling', version: 'v1' });
        resources.push(entry);
      }
    }
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources,
    };
  }

  private sendStatus(
    res: ServerResponse,
    code: number,
    message?: string,
    details?: Record<string, unknown>,
    reasonOverride?: string,
    metadata?: Record<string, unknown>,
  ): void {
    if (res.headersSent || res.destroyed) return;
    const [reason, text] = STATUS_REASONS[code] ?? ['Unknown', `status ${code}`];
    const body: Record<string, unknown> = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: metadata ?? {},
      status: 'Failure',
      message: message ?? text,
      reason: reasonOverride ?? reason,
      code,
    };
    if (details) body.details = details;
    const headers: Record<string, string> = {};
    if (code === 429 || code === 503) headers['Retry-After'] = '1';
    sendJson(res, code, JSON.stringify(body), headers);
  }
}

function entryKey(ns: string, name: string): string {
  return `${ns}${SEP}${name}`;
}

function entryJson(e: Entry): string {
  if (e.json === undefined) e.json = JSON.stringify(e.obj);
  return e.json;
}

function cloneEntry(e: Entry): KubeObject {
  return JSON.parse(entryJson(e)) as KubeObject;
}

function nowTimestamp(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (const byte of randomBytes(5)) s += alphabet[byte % alphabet.length];
  return s;
}

function lowerBound(arr: readonly string[], key: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(arr: readonly string[], key: string): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBoundRv(history: readonly HistoryEvent[], rv: number): number {
  let lo = 0;
  let hi = history.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (history[mid]!.rv <= rv) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'fake/v1', rv, start }), 'utf8').toString('base64url');
}

function decodeContinue(token: string): { rv: number; start: string } | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (isPlainObject(parsed) && typeof parsed.rv === 'number' && typeof parsed.start === 'string') {
      return { rv: parsed.rv, start: parsed.start };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function listJson(
  bucket: Bucket,
  rv: string,
  next: string | undefined,
  remaining: number | undefined,
  items: string[],
): string {
  const meta: Record<string, unknown> = { resourceVersion: rv };
  if (next !== undefined) meta.continue = next;
  if (remaining !== undefined) meta.remainingItemCount = remaining;
  return `{"kind":"${bucket.def.kind}List","apiVersion":"${bucket.apiVersion}","metadata":${JSON.stringify(meta)},"items":[${items.join(',')}]}`;
}

function tableJson(
  bucket: Bucket,
  page: Entry[],
  rv: string,
  next: string | undefined,
  remaining: number | undefined,
  includeObject: string,
): string {
  const meta: Record<string, unknown> = { resourceVersion: rv };
  if (next !== undefined) meta.continue = next;
  if (remaining !== undefined) meta.remainingItemCount = remaining;
  const isPod = bucket.def.kind === 'Pod';
  const columnDefinitions = [
    { name: 'Name', type: 'string', format: 'name', description: 'Name of the object', priority: 0 },
    ...(isPod ? [{ name: 'Status', type: 'string', format: '', description: 'Pod phase', priority: 0 }] : []),
    { name: 'Age', type: 'string', format: '', description: 'Time since creation', priority: 0 },
  ];
  const now = Date.now();
  const rows = page.map((e) => {
    const o = e.obj;
    const status = isPlainObject(o.status) ? o.status : {};
    const cells: unknown[] = [o.metadata.name];
    if (isPod) cells.push(typeof status.phase === 'string' ? status.phase : 'Unknown');
    cells.push(age(now, o.metadata.creationTimestamp));
    const row: Record<string, unknown> = { cells };
    if (includeObject === 'Object') row.object = o;
    else if (includeObject !== 'None') {
      row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
    }
    return row;
  });
  return JSON.stringify({
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: meta,
    columnDefinitions,
    rows,
  });
}

function age(now: number, ts: string | undefined): string {
  const t = ts ? Date.parse(ts) : Number.NaN;
  if (Number.isNaN(t)) return '<unknown>';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function toScale(obj: KubeObject): KubeObject {
  const spec = isPlainObject(obj.spec) ? obj.spec : {};
  const status = isPlainObject(obj.status) ? obj.status : {};
  const selector =
    isPlainObject(spec.selector) && isPlainObject(spec.selector.matchLabels) ? spec.selector.matchLabels : {};
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: typeof spec.replicas === 'number' ? spec.replicas : 1 },
    status: {
      replicas: typeof status.replicas === 'number' ? status.replicas : 0,
      selector: Object.entries(selector)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(','),
    },
  };
}

function watchErrorLine(code: number, reason: string, message: string): string {
  const object = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  return `${JSON.stringify({ type: 'ERROR', object })}\n`;
}

function sendJson(
  res: ServerResponse,
  code: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache, private',
    ...headers,
  });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** Parses the label-selector syntax: `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x,y)`. */
function parseLabelSelector(selector: string): Requirement[] {
  const out: Requirement[] = [];
  for (const part of splitTopLevel(selector)) {
    let m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
    if (m) {
      const values = m[3]!.split(',').map((v) => v.trim());
      out.push({ key: m[1]!, op: m[2] === 'in' ? 'in' : 'notin', values });
      continue;
    }
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
    if (m) {
      out.push({ key: m[1]!, op: m[2] === '!=' ? 'neq' : 'eq', values: [m[3]!] });
      continue;
    }
    m = /^(!?)([^=!\s(),]+)$/.exec(part);
    if (m) {
      out.push({ key: m[2]!, op: m[1] ? 'notexists' : 'exists', values: [] });
      continue;
    }
    throw new Error(`unable to parse requirement: ${part}`);
  }
  return out;
}

function parseFieldSelector(selector: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  for (const part of splitTopLevel(selector)) {
    const m = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw new Error(`invalid field selector: ${part}`);
    out.push({ path: m[1]!.split('.'), value: m[3]!, negate: m[2] === '!=' });
  }
  return out;
}

function matches(obj: KubeObject, filter: Filter): boolean {
  if (filter.labels.length > 0) {
    const labels = obj.metadata.labels ?? {};
    for (const r of filter.labels) {
      const has = Object.hasOwn(labels, r.key);
      const v = labels[r.key];
      switch (r.op) {
        case 'eq':
          if (v !== r.values[0]) return false;
          break;
        case 'neq':
          if (v === r.values[0]) return false;
          break;
        case 'exists':
          if (!has) return false;
          break;
        case 'notexists':
          if (has) return false;
          break;
        case 'in':
          if (v === undefined || !r.values.includes(v)) return false;
          break;
        case 'notin':
          if (v !== undefined && r.values.includes(v)) return false;
          break;
      }
    }
  }
  for (const f of filter.fields) {
    let cur: unknown = obj;
    for (const p of f.path) cur = isPlainObject(cur) ? cur[p] : undefined;
    const s = cur === undefined || cur === null ? '' : String(cur);
    if ((s === f.value) === f.negate) return false;
  }
  return true;
}

/** RFC 7386 merge patch; with `strategic`, lists of named objects merge by key and `$patch` directives apply. */
export function mergePatch(target: unknown, patch: unknown, strategic: boolean): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  if (strategic && patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return structuredClone(rest);
  }
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (strategic && k.startsWith('$')) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (strategic && Array.isArray(v) && Array.isArray(cur)) {
      const mergeKey = listMergeKey(v);
      out[k] = mergeKey ? mergeListByKey(cur, v, mergeKey) : structuredClone(v);
      continue;
    }
    out[k] = mergePatch(cur, v, strategic);
  }
  return out;
}

function listMergeKey(items: unknown[]): string | undefined {
  if (items.length === 0) return undefined;
  for (const key of ['name', 'uid', 'containerPort', 'mountPath']) {
    if (items.every((i) => isPlainObject(i) && (typeof i[key] === 'string' || typeof i[key] === 'number')))
      return key;
  }
  return undefined;
}

function mergeListByKey(current: unknown[], patch: unknown[], key: string): unknown[] {
  const out = [...current];
  for (const item of patch) {
    const p = item as Record<string, unknown>;
    const idx = out.findIndex((c) => isPlainObject(c) && c[key] === p[key]);
    if (p.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
    } else if (idx >= 0) {
      out[idx] = mergePatch(out[idx], p, true);
    } else {
      out.push(mergePatch({}, p, true));
    }
  }
  return out;
}

function patchError(message: string): Error {
  return Object.assign(new Error(message), { code: 422 });
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw patchError(`invalid JSON pointer: ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function getAt(doc: unknown, path: string[]): unknown {
  let cur = doc;
  for (const p of path) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isPlainObject(cur)) cur = cur[p];
    else return undefined;
  }
  return cur;
}

/** RFC 6902 JSON patch (add, remove, replace, move, copy, test) on a copy of `doc`. */
export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw Object.assign(new Error('json patch must be an array'), { code: 400 });
  let root: unknown = structuredClone(doc);
  const setAt = (path: string[], value: unknown, insert: boolean) => {
    if (path.length === 0) {
      root = value;
      return;
    }
    const parent = getAt(root, path.slice(0, -1));
    const last = path[path.length - 1]!;
    if (Array.isArray(parent)) {
      const idx = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(idx) || idx < 0 || idx > parent.length || (!insert && idx >= parent.length)) {
        throw patchError(`array index out of range: ${last}`);
      }
      if (insert) parent.splice(idx, 0, value);
      else parent[idx] = value;
    } else if (isPlainObject(parent)) {
      if (!insert && !Object.hasOwn(parent, last))
        throw patchError(`replace operation does not apply: doc is missing key: ${last}`);
      parent[last] = value;
    } else {
      throw patchError(`doc is missing path: /${path.join('/')}`);
    }
  };
  const removeAt = (path: string[]): unknown => {
    const parent = getAt(root, path.slice(0, -1));
    const last = path[path.length - 1];
    if (last === undefined) throw patchError('cannot remove the root');
    if (Array.isArray(parent)) {
      const idx = Number(last);
      if (!Number.isInteger(idx) || idx < 0 || idx >= parent.length)
        throw patchError(`array index out of range: ${last}`);
      return parent.splice(idx, 1)[0];
    }
    if (isPlainObject(parent) && Object.hasOwn(parent, last)) {
      const v = parent[last];
      delete parent[last];
      return v;
    }
    throw patchError(`remove operation does not apply: doc is missing path: /${path.join('/')}`);
  };
  for (const raw of ops) {
    if (!isPlainObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw Object.assign(new Error('invalid json patch operation'), { code: 400 });
    }
    const path = parsePointer(raw.path);
    switch (raw.op) {
      case 'add':
        setAt(path, structuredClone(raw.value), true);
        break;
      case 'replace':
        setAt(path, structuredClone(raw.value), false);
        break;
      case 'remove':
        removeAt(path);
        break;
      case 'move': {
        const v = removeAt(parsePointer(String(raw.from)));
        setAt(path, v, true);
        break;
      }
      case 'copy':
        setAt(path, structuredClone(getAt(root, parsePointer(String(raw.from)))), true);
        break;
      case 'test':
        if (JSON.stringify(getAt(root, path)) !== JSON.stringify(raw.value))
          throw patchError(`testing value ${raw.path} failed`);
        break;
      default:
        throw Object.assign(new Error(`unknown json patch op: ${raw.op}`), { code: 400 });
    }
  }
  return root;
}

let cachedCert: { certPem: string; keyPem: string } | undefined;

/** Self-signed cert for 127.0.0.1, DER-encoded by hand because Node can sign but cannot issue X.509. */
function servingCertificate(): { certPem: string; keyPem: string } {
  if (cachedCert) return cachedCert;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const certDer = selfSignedCert(privateKey, publicKey);
  const b64 = certDer
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  cachedCert = {
    certPem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  return cachedCert;
}

function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else if (n < 0x100) len = Buffer.from([0x81, n]);
  else len = Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

const derSeq = (...items: Buffer[]) => der(0x30, Buffer.concat(items));

function derOid(oid: string): Buffer {
  const parts = oid.split('.').map(Number);
  const bytes = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk = [p & 0x7f];
    for (let v = p >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

function derTime(d: Date): Buffer {
  const iso = d.toISOString();
  const digits =
    iso.slice(2, 4) +
    iso.slice(5, 7) +
    iso.slice(8, 10) +
    iso.slice(11, 13) +
    iso.slice(14, 16) +
    iso.slice(17, 19);
  return der(0x17, Buffer.from(`${digits}Z`, 'ascii'));
}

function selfSignedCert(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  const ecdsaSha256 = derSeq(derOid('1.2.840.10045.4.3.2'));
  const name = derSeq(der(0x31, derSeq(derOid('2.5.4.3'), der(0x0c, Buffer.from('fake-kube', 'utf8')))));
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x3f) | 0x40;
  const now = Date.now();
  const critical = der(0x01, Buffer.from([0xff]));
  const extensions = derSeq(
    derSeq(derOid('2.5.29.19'), critical, der(0x04, derSeq(der(0x01, Buffer.from([0xff]))))),
    derSeq(derOid('2.5.29.15'), critical, der(0x04, der(0x03, Buffer.from([0x02, 0x84])))),
    derSeq(derOid('2.5.29.37'), der(0x04, derSeq(derOid('1.3.6.1.5.5.7.3.1')))),
    derSeq(
      derOid('2.5.29.17'),
      der(0x04, derSeq(der(0x87, Buffer.from([127, 0, 0, 1])), der(0x82, Buffer.from('localhost', 'ascii')))),
    ),
  );
  const tbs = derSeq(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, serial),
    ecdsaSha256,
    name,
    derSeq(derTime(new Date(now - 3_600_000)), derTime(new Date(now + 10 * 365 * 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(0xa3, extensions),
  );
  const signature = sign('sha256', tbs, privateKey);
  return derSeq(tbs, ecdsaSha256, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
}
