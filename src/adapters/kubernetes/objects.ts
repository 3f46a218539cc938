import {
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  type KubeConfig,
  RequestContext,
} from '@kubernetes/client-node';
import type { ClusterConfig } from '../../config.ts';
import { ScopeError } from '../../errors.ts';
import { scrubSecrets } from '../../log.ts';
import { loadKubeConfig } from './client.ts';
import { DispatcherPool } from './dispatcher-pool.ts';

/** A failed API call with its HTTP status (0 when the cluster did not answer), for per-object outcomes. */
export class KubeRequestError extends ScopeError {
  readonly status: number;
  constructor(status: number, message: string) {
    super(
      status === 403 ? 'UPSTREAM_FORBIDDEN' : status === 0 ? 'UPSTREAM_UNAVAILABLE' : 'UPSTREAM_UNAVAILABLE',
      message,
    );
    this.name = 'KubeRequestError';
    this.status = status;
  }
}

/** Get, list and merge-patch arbitrary objects of one cluster (the actor's access, separate from inventory). */
export class KubeObjects {
  readonly cluster: string;
  readonly environment: string;
  readonly #config: ClusterConfig;
  readonly #timeoutMs: number;
  #kc: KubeConfig | undefined;
  readonly #http = new IsomorphicFetchHttpLibrary();
  readonly #pool = new DispatcherPool();

  constructor(config: ClusterConfig, kubeConfig?: KubeConfig) {
    this.cluster = config.name;
    this.environment = config.environment;
    this.#config = config;
    this.#timeoutMs = config.timeoutSeconds * 1000;
    this.#kc = kubeConfig;
  }

  get(path: string, signal: AbortSignal): Promise<Record<string, unknown>> {
    return this.#request(HttpMethod.GET, path, undefined, undefined, signal);
  }

  async list(path: string, signal: AbortSignal): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let cont: string | undefined;
    do {
      const body = await this.#request(
        HttpMethod.GET,
        `${path}?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`,
        undefined,
        undefined,
        signal,
      );
      const items = Array.isArray(body.items) ? body.items : [];
      for (const i of items) if (typeof i === 'object' && i !== null) out.push(i as Record<string, unknown>);
      const meta = body.metadata as { continue?: string } | undefined;
      cont = meta?.continue || undefined;
    } while (cont);
    return out;
  }

  /** JSON merge patch (custom resources reject strategic merge patches). */
  patch(path: string, body: unknown, signal: AbortSignal): Promise<Record<string, unknown>> {
    return this.#request(
      HttpMethod.PATCH,
      path,
      JSON.stringify(body),
      'application/merge-patch+json',
      signal,
    );
  }

  async #request(
    method: HttpMethod,
    path: string,
    body: string | undefined,
    contentType: string | undefined,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> {
    signal.throwIfAborted();
    let kc: KubeConfig;
    try {
      this.#kc ??= loadKubeConfig(this.#config);
      kc = this.#kc;
    } catch (err) {
      throw new KubeRequestError(0, (err as Error).message);
    }
    const server = kc.getCurrentCluster()?.server ?? '';
    const ctx = new RequestContext(`${server.replace(/\/+$/, '')}${path}`, method);
    ctx.setHeaderParam('Accept', 'application/json');
    ctx.setHeaderParam('User-Agent', 'scope-actor');
    if (body !== undefined && contentType) {
      ctx.setHeaderParam('Content-Type', contentType);
      ctx.setBody(body);
    }
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    ctx.setSignal(AbortSignal.any([signal, timeout]));
    try {
      await kc.applySecurityAuthentication(ctx);
    } catch (err) {
      throw new KubeRequestError(0, `cannot get credentials for cluster ${this.cluster}: ${scrub(err)}`);
    }
    this.#pool.reuse(ctx);
    let status: number;
    let text: string;
    try {
      const res = await this.#http.send(ctx).toPromise();
      status = res.httpStatusCode;
      text = await res.body.text();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (timeout.aborted) throw new KubeRequestError(0, `cluster ${this.cluster} did not answer in time`);
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new KubeRequestError(0, `cannot reach cluster ${this.cluster}: ${cause ?? scrub(err)}`);
    }
    if (status < 200 || status > 299) {
      let said = '';
      try {
        const parsed = JSON.parse(text) as { message?: unknown };
        if (typeof parsed.message === 'string') said = `: ${scrubSecrets(parsed.message).slice(0, 300)}`;
      } catch {
        // not a Status body
      }
      throw new KubeRequestError(status, `HTTP ${status}${said}`);
    }
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
      return parsed as Record<string, unknown>;
    } catch {
      throw new KubeRequestError(
        502,
        `cluster ${this.cluster} answered with something that is not a JSON object`,
      );
    }
  }
}

function scrub(err: unknown): string {
  return scrubSecrets(err instanceof Error ? err.message : String(err)).slice(0, 300);
}
