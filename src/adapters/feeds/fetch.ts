import { ScopeError } from '../../errors.ts';
import { checkFeedUrl } from './config.ts';

export type UrlPolicy = { allowedHosts: readonly string[]; allowLoopbackHttp: boolean };
export type Validators = { etag?: string; lastModified?: string };
export type Fetched =
  | { notModified: true }
  | { notModified: false; bytes: Uint8Array; validators: Validators };

const MAX_REDIRECTS = 3;

/**
 * GETs a feed URL with conditional headers (ETag / Last-Modified). Redirects are followed by hand so that
 * every hop is checked against the allow-list; the body is capped at `maxBytes`.
 */
export async function fetchFeed(
  url: string,
  policy: UrlPolicy,
  previous: Validators,
  opts: { maxBytes: number; signal?: AbortSignal; timeoutMs?: number },
): Promise<Fetched> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const refused = checkFeedUrl(current, policy);
    if (refused) throw new ScopeError('NOT_ALLOWED', `feed URL refused: ${refused}`);
    const headers: Record<string, string> = { accept: 'application/json, application/zip, text/csv, */*' };
    if (previous.etag) headers['if-none-match'] = previous.etag;
    if (previous.lastModified) headers['if-modified-since'] = previous.lastModified;
    const signals = [AbortSignal.timeout(opts.timeoutMs ?? 120_000), ...(opts.signal ? [opts.signal] : [])];
    let res: Response;
    try {
      res = await fetch(current, { headers, redirect: 'manual', signal: AbortSignal.any(signals) });
    } catch (err) {
      throw new ScopeError('UPSTREAM_UNAVAILABLE', `feed fetch failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (res.status >= 300 && res.status < 400 && res.status !== 304) {
      const location = res.headers.get('location');
      await res.body?.cancel();
      if (!location)
        throw new ScopeError('UPSTREAM_UNAVAILABLE', `feed answered ${res.status} without a Location`);
      current = new URL(location, current).toString();
      continue;
    }
    if (res.status === 304) {
      await res.body?.cancel();
      return { notModified: true };
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new ScopeError('UPSTREAM_UNAVAILABLE', `feed answered HTTP ${res.status}`);
    }
    const bytes = await readCapped(res, opts.maxBytes);
    const validators: Validators = {};
    const etag = res.headers.get('etag');
    const lastModified = res.headers.get('last-modified');
    if (etag) validators.etag = etag;
    if (lastModified) validators.lastModified = lastModified;
    return { notModified: false, bytes, validators };
  }
  throw new ScopeError('UPSTREAM_UNAVAILABLE', `feed redirected more than ${MAX_REDIRECTS} times`);
}

async function readCapped(res: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new ScopeError('UPSTREAM_UNAVAILABLE', `feed is ${declared} bytes, over the ${maxBytes} limit`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (!res.body) return new Uint8Array();
  for await (const chunk of res.body) {
    size += chunk.length;
    if (size > maxBytes)
      throw new ScopeError('UPSTREAM_UNAVAILABLE', `feed is over the ${maxBytes}-byte limit`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
