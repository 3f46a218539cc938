import {
  ApiException,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  RequestContext,
  Watch,
} from '@kubernetes/client-node';
import type { ClusterConfig } from '../../config.ts';
import { addOwners, type OwnerLink } from '../../domain/inventory/pod-record.ts';
import { ScopeError } from '../../errors.ts';
import { scrubSecrets } from '../../log.ts';
import { DispatcherPool } from './dispatcher-pool.ts';

/** One page of a cluster-wide pod LIST: raw v1 Pod JSON plus the snapshot resourceVersion of the whole list. */
export type PodPage = { items: unknown[]; resourceVersion: string };

/** Watch event types the collector acts on; ERROR events surface as rejections instead. */
export type PodEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

/** Receives watch events in order; a returned promise is awaited before the next event is handed over. */
export type PodEventHandler = (type: PodEventType, obj: unknown) => void | Promise<void>;

/** The API server no longer has the requested resourceVersion (410 Gone / Expired): the caller must re-list. */
export class ResourceExpiredError extends ScopeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UPSTREAM_UNAVAILABLE', message, options);
    this.name = 'ResourceExpiredError';
  }
}

type RawList = { items: unknown[]; resourceVersion: string; continue?: string };

const PERMISSION_HINT = 'grant list and watch on pods, replicasets.apps and jobs.batch in all namespaces';
const METADATA_LIST_ACCEPT =
  'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
const WATCH_SERVER_TIMEOUT_SECONDS = 300;
const MAX_SERVER_MESSAGE = 300;

/**
 * Read access to the pods of one configured cluster. Auth and TLS come from client-node's KubeConfig; LIST
 * pages are fetched as raw JSON through client-node's HTTP layer because its typed models deserialize every
 * pod (several times slower at fleet scale), and watches use client-node's Watch.
 */
export class KubeCluster {
  readonly name: string;
  readonly environment: string;
  /** Bound on every single request, from the cluster's `timeoutSeconds`. */
  readonly timeoutMs: number;
  #config: ClusterConfig;
  #kc: KubeConfig | undefined;
  #http = new IsomorphicFetchHttpLibrary();
  readonly #pool = new DispatcherPool();

  constructor(config: ClusterConfig, options: { kubeConfig?: KubeConfig } = {}) {
    this.name = config.name;
    this.environment = config.environment;
    this.timeoutMs = config.timeoutSeconds * 1000;
    this.#config = config;
    this.#kc = options.kubeConfig;
  }

  /** The KubeConfig for this cluster, loaded on first use; bad files or contexts raise CONFIG_INVALID. */
  kubeConfig(): KubeConfig {
    this.#kc ??= loadKubeConfig(this.#config);
    return this.#kc;
  }

  /** Pages of every pod in the cluster, `pageSize` at a time; all pages carry the first page's resourceVersion. */
  async *listPods(opts: { pageSize: number; signal: AbortSignal }): AsyncGenerator<PodPage> {
    let resourceVersion: string | undefined;
    let cont: string | undefined;
    do {
      const page = await this.#list(
        '/api/v1/pods',
        'pods',
        opts.pageSize,
        cont,
        opts.signal,
        'application/json',
      );
      resourceVersion ??= page.resourceVersion;
      yield { items: page.items, resourceVersion };
      cont = page.continue;
    } while (cont);
  }

  /** Every ReplicaSet and Job (metadata only) as an owner index for workload resolution. */
  async listOwners(signal: AbortSignal, pageSize = 500): Promise<Map<string, OwnerLink | null>> {
    const index = new Map<string, OwnerLink | null>();
    const collect = async (path: string, resource: string, kind: string) => {
      let cont: string | undefined;
      do {
        const page = await this.#list(path, resource, pageSize, cont, signal, METADATA_LIST_ACCEPT);
        addOwners(index, page.items, kind);
        cont = page.continue;
      } while (cont);
    };
    await Promise.all([
      collect('/apis/apps/v1/replicasets', 'replicasets', 'ReplicaSet'),
      collect('/apis/batch/v1/jobs', 'jobs', 'Job'),
    ]);
    return index;
  }

  /**
   * Watches all pods from `resourceVersion` (with bookmarks). Resolves when the stream ends normally (server
   * timeout, idle connection) after every event was handled; rejects with ResourceExpiredError on 410, a
   * translated ScopeError on other failures, the handler's error if it throws, or the abort reason.
   */
  watchPods(
    resourceVersion: string,
    onEvent: PodEventHandler,
    signal: AbortSignal,
    options: { serverTimeoutSeconds?: number } = {},
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let established = false;
      let controller: AbortController | undefined;
      let chain: Promise<void> = Promise.resolve();

      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        signal.removeEventListener('abort', onAbort);
        controller?.abort();
        if (signal.aborted) {
          reject(signal.reason);
          return;
        }
        chain.then(
          () => (err === undefined ? resolve() : reject(err)),
          (handlerErr: unknown) => reject(handlerErr),
        );
      };
      const onAbort = () => finish(signal.reason);
      const connectTimer = setTimeout(() => {
        if (!established) finish(this.#timeout('watch pods'));
      }, this.timeoutMs);

      if (signal.aborted) {
        finish(signal.reason);
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });

      const handle = (type: string, obj: unknown) => {
        if (settled) return;
        if (type === 'ERROR') {
          finish(this.#watchError(obj));
          return;
        }
        if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED' && type !== 'BOOKMARK') return;
        chain = chain.then(() => {
          if (!signal.aborted) return onEvent(type, obj);
        });
        chain.catch((err: unknown) => finish(err));
      };
      const done = (err: unknown) => {
        if (settled) return;
        if (err === null || err === undefined) finish();
        else if (statusOf(err) !== undefined) finish(this.#statusError(statusOf(err) ?? 0, '', 'watch pods'));
        else if (established) finish();
        else finish(this.#transportError(err, 'watch pods'));
      };

      let kc: KubeConfig;
      try {
        kc = this.kubeConfig();
      } catch (err) {
        finish(err);
        return;
      }
      const query = {
        resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: options.serverTimeoutSeconds ?? WATCH_SERVER_TIMEOUT_SECONDS,
      };
      new Watch(kc).watch('/api/v1/pods', query, handle, done).then(
        (c) => {
          controller = c;
          established = true;
          clearTimeout(connectTimer);
          if (settled) c.abort();
        },
        (err: unknown) =>
          finish(
            new ScopeError(
              'UPSTREAM_UNAUTHORIZED',
              `cannot get credentials for cluster ${this.name}: ${this.#scrub(messageOf(err))}`,
            ),
          ),
      );
    });
  }

  /**
   * Every object of one resource, all pages, as raw JSON. `hint` is what the 403 error tells the operator to
   * grant. A 404 (the resource's CRD is not installed) raises NOT_FOUND so callers can tell it from an outage.
   */
  async listAll(path: string, resource: string, signal: AbortSignal, hint: string): Promise<unknown[]> {
    const items: unknown[] = [];
    let cont: string | undefined;
    do {
      const page = await this.#list(path, resource, 500, cont, signal, 'application/json', hint);
      items.push(...page.items);
      cont = page.continue;
    } while (cont);
    return items;
  }

  /** Releases pooled connections; the cluster can still be used afterwards. */
  async close(): Promise<void> {
    await this.#pool.drop();
  }

  async #list(
    path: string,
    resource: string,
    limit: number,
    cont: string | undefined,
    signal: AbortSignal,
    accept: string,
    hint = PERMISSION_HINT,
  ): Promise<RawList> {
    const action = `list ${resource}`;
    const body = await this.#get(
      path,
      { limit: String(limit), ...(cont ? { continue: cont } : {}) },
      signal,
      {
        action,
        accept,
        hint,
      },
    );
    if (!isObject(body) || !Array.isArray(body.items)) {
      throw new ScopeError(
        'UPSTREAM_UNAVAILABLE',
        `cluster ${this.name} answered ${action} with something not a list`,
      );
    }
    const meta = isObject(body.metadata) ? body.metadata : {};
    const list: RawList = {
      items: body.items,
      resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '',
    };
    if (typeof meta.continue === 'string' && meta.continue !== '') list.continue = meta.continue;
    return list;
  }

  /** One GET, retried once when a kept-alive connection was reset under it (the server closed an idle socket). */
  async #get(
    path: string,
    query: Record<string, string>,
    signal: AbortSignal,
    opts: { action: string; accept: string; hint?: string },
  ): Promise<unknown> {
    try {
      return await this.#getOnce(path, query, signal, opts);
    } catch (err) {
      if (!(err instanceof ScopeError) || !isConnectionReset(err.cause) || signal.aborted) throw err;
      void this.#pool.drop();
      return this.#getOnce(path, query, signal, opts);
    }
  }

  async #getOnce(
    path: string,
    query: Record<string, string>,
    signal: AbortSignal,
    opts: { action: string; accept: string; hint?: string },
  ): Promise<unknown> {
    signal.throwIfAborted();
    const kc = this.kubeConfig();
    const server = kc.getCurrentCluster()?.server ?? '';
    const url = new URL(`${server.replace(/\/+$/, '')}${path}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const ctx = new RequestContext(url.toString(), HttpMethod.GET);
    ctx.setHeaderParam('Accept', opts.accept);
    ctx.setHeaderParam('User-Agent', 'scope-inventory');
    const timeout = AbortSignal.timeout(this.timeoutMs);
    ctx.setSignal(AbortSignal.any([signal, timeout]));
    try {
      await kc.applySecurityAuthentication(ctx);
    } catch (err) {
      throw new ScopeError(
        'UPSTREAM_UNAUTHORIZED',
        `cannot get credentials for cluster ${this.name}: ${this.#scrub(messageOf(err))}`,
      );
    }
    this.#pool.reuse(ctx);
    try {
      const res = await this.#http.send(ctx).toPromise();
      const text = await res.body.text();
      if (res.httpStatusCode !== 200) {
        throw this.#statusError(res.httpStatusCode, text, opts.action, opts.hint);
      }
      return JSON.parse(text) as unknown;
    } catch (err) {
      if (err instanceof ScopeError) throw err;
      if (signal.aborted) throw signal.reason;
      if (timeout.aborted) throw this.#timeout(opts.action);
      if (err instanceof SyntaxError) {
        throw new ScopeError(
          'UPSTREAM_UNAVAILABLE',
          `cluster ${this.name} answered ${opts.action} with invalid JSON`,
        );
      }
      throw this.#transportError(err, opts.action);
    }
  }

  #statusError(code: number, body: string, action: string, hint = PERMISSION_HINT): ScopeError {
    const said = serverMessage(body);
    const detail = said ? ` (server said: ${this.#scrub(said)})` : '';
    if (code === 410)
      return new ResourceExpiredError(`cluster ${this.name}: ${action} resourceVersion expired${detail}`);
    if (code === 401) {
      return new ScopeError(
        'UPSTREAM_UNAUTHORIZED',
        `cluster ${this.name} rejected the credentials (401 Unauthorized) to ${action}: check the token or client certificate of its kubeconfig user`,
      );
    }
    if (code === 403) {
      return new ScopeError(
        'UPSTREAM_FORBIDDEN',
        `cannot ${action} at cluster scope in cluster ${this.name} (403 Forbidden): ${hint}${detail}`,
      );
    }
    if (code === 404 && hint !== PERMISSION_HINT) {
      return new ScopeError(
        'NOT_FOUND',
        `cluster ${this.name} does not serve ${action.replace(/^list /, '')}${detail}`,
      );
    }
    return new ScopeError(
      'UPSTREAM_UNAVAILABLE',
      `cluster ${this.name} answered ${action} with HTTP ${code}${detail}`,
    );
  }

  #watchError(obj: unknown): ScopeError {
    const code = isObject(obj) && typeof obj.code === 'number' ? obj.code : 500;
    return this.#statusError(code, JSON.stringify(obj ?? {}), 'watch pods');
  }

  #transportError(err: unknown, action: string): ScopeError {
    if (err instanceof ScopeError) return err;
    if (err instanceof ApiException) return this.#statusError(err.code, JSON.stringify(err.body), action);
    const name = isObject(err) && typeof err.name === 'string' ? err.name : '';
    if (name === 'TimeoutError') return this.#timeout(action);
    const cause = isObject(err) ? err.cause : undefined;
    const code = (isObject(cause) && typeof cause.code === 'string' ? cause.code : undefined) ?? errnoOf(err);
    const why = code ?? this.#scrub(messageOf(err));
    return new ScopeError('UPSTREAM_UNAVAILABLE', `cannot reach cluster ${this.name} to ${action}: ${why}`, {
      cause: code === undefined ? undefined : new Error(code),
    });
  }

  #timeout(action: string): ScopeError {
    return new ScopeError(
      'TIMEOUT',
      `cluster ${this.name} did not answer ${action} within ${this.timeoutMs / 1000} s (timeoutSeconds)`,
    );
  }

  #scrub(text: string): string {
    let out = scrubSecrets(text)
      .replace(/Bearer\s+[^\s"',]+/gi, 'Bearer [redacted]')
      .replace(/eyJ[\w-]+\.[\w-]+\.[\w-]*/g, '[redacted]');
    const user = this.#kc?.getCurrentUser();
    for (const secret of [user?.token, user?.password]) {
      if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
    }
    return out.length > MAX_SERVER_MESSAGE ? `${out.slice(0, MAX_SERVER_MESSAGE)}…` : out;
  }
}

/** Builds the KubeConfig of one cluster: a kubeconfig file (optionally a named context) or the in-cluster account. */
export function loadKubeConfig(config: ClusterConfig): KubeConfig {
  const kc = new KubeConfig();
  if (config.inCluster) {
    if (!process.env.KUBERNETES_SERVICE_HOST || !process.env.KUBERNETES_SERVICE_PORT) {
      throw new ScopeError(
        'CONFIG_INVALID',
        `cluster ${config.name} is inCluster but KUBERNETES_SERVICE_HOST/PORT are not set: is scope running in a pod?`,
      );
    }
    kc.loadFromCluster();
    return kc;
  }
  const file = config.kubeconfig ?? '';
  try {
    kc.loadFromFile(file);
  } catch (err) {
    // YAML errors quote the offending lines, which may hold credentials: report only the kind of failure.
    const why = errnoOf(err) ?? 'not a valid kubeconfig (YAML)';
    throw new ScopeError(
      'CONFIG_INVALID',
      `cannot load kubeconfig ${file} for cluster ${config.name}: ${why}`,
    );
  }
  if (config.context !== undefined) {
    if (kc.getContextObject(config.context) === null) {
      throw new ScopeError(
        'CONFIG_INVALID',
        `kubeconfig ${file} has no context "${config.context}" (cluster ${config.name}); it has: ${kc
          .getContexts()
          .map((c) => c.name)
          .join(', ')}`,
      );
    }
    kc.setCurrentContext(config.context);
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null || !cluster.server) {
    throw new ScopeError(
      'CONFIG_INVALID',
      `kubeconfig ${file} has no current context with a cluster server for cluster ${config.name}; set "context"`,
    );
  }
  return kc;
}

function statusOf(err: unknown): number | undefined {
  return isObject(err) && typeof err.statusCode === 'number' ? err.statusCode : undefined;
}

function errnoOf(err: unknown): string | undefined {
  return isObject(err) && typeof err.code === 'string' ? err.code : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function serverMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as unknown;
    return isObject(parsed) && typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** True for the transport errors a reused keep-alive connection produces when the server already closed it. */
function isConnectionReset(cause: unknown): boolean {
  return cause instanceof Error && RESET_CODES.has(cause.message);
}
