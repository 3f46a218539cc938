import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A protocol-level stand-in in front of the real docker-registry, for what Distribution 2.8 lacks: the OCI 1.1
 * referrers API (built from the manifests pushed through it, as a referrers-capable registry indexes `subject`),
 * the bearer-token challenge flow (`WWW-Authenticate: Bearer realm=…` + a token endpoint), per-repository
 * access denial, and injected 429/5xx faults with `Retry-After`. Everything else is forwarded unchanged.
 */
export type RegistryProxy = {
  url: string;
  host: string;
  stats: { requests: number; tokenRequests: number; referrersRequests: number; faults: number };
  /** Answer the next `count` registry requests matching `match` with `status` (and `Retry-After`). */
  fault: (f: { status: number; count: number; retryAfter?: string; match?: RegExp }) => void;
  close: () => Promise<void>;
};

export type ProxyOptions = {
  referrers?: boolean;
  /** Require bearer tokens; `users` are the basic credentials the token endpoint accepts. */
  auth?: {
    users: Record<string, string>;
    anonymous?: boolean;
    deny?: (repository: string, user: string | undefined) => boolean;
  };
};

type Descriptor = {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
};

export async function startRegistryProxy(upstream: string, opts: ProxyOptions = {}): Promise<RegistryProxy> {
  const referrers = new Map<string, Descriptor[]>();
  const tokens = new Map<string, { user: string | undefined; scope: string }>();
  const faults: Array<{ status: number; count: number; retryAfter?: string; match?: RegExp }> = [];
  const stats = { requests: 0, tokenRequests: 0, referrersRequests: 0, faults: 0 };
  let self = '';

  const readBody = (req: IncomingMessage) =>
    new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks)));
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', self);
    if (url.pathname === '/token') {
      stats.tokenRequests++;
      const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
      let user: string | undefined;
      if (basic) {
        const [u, p] = Buffer.from(basic[1] as string, 'base64')
          .toString()
          .split(':');
        if (!u || opts.auth?.users[u] !== p)
          return void res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        user = u;
      } else if (!opts.auth?.anonymous)
        return void res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      const token = randomBytes(16).toString('hex');
      tokens.set(token, { user, scope: url.searchParams.get('scope') ?? '' });
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ token, expires_in: 300 }));
    }
    stats.requests++;
    const m = /^\/v2\/(.+?)\/(manifests|blobs|referrers|tags)\/(.+)$/.exec(url.pathname);
    const repo = m?.[1];
    if (opts.auth && url.pathname.startsWith('/v2/')) {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      const grant = bearer ? tokens.get(bearer[1] as string) : undefined;
      const scope = repo ? `repository:${repo}:pull` : '';
      if (!grant || (repo && grant.scope !== scope && req.method === 'GET')) {
        res.writeHead(401, {
          'www-authenticate': `Bearer realm="${self}/token",service="scope-test"${repo ? `,scope="${scope}"` : ''}`,
        });
        return void res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      }
      if (repo && opts.auth.deny?.(repo, grant.user))
        return void res.writeHead(403).end('{"errors":[{"code":"DENIED"}]}');
    }
    const f = faults.find((x) => x.count > 0 && (!x.match || x.match.test(url.pathname)));
    if (f) {
      f.count--;
      stats.faults++;
      res.writeHead(f.status, f.retryAfter ? { 'retry-after': f.retryAfter } : {});
      return void res.end();
    }
    if (opts.referrers && m?.[2] === 'referrers' && req.method === 'GET') {
      stats.referrersRequests++;
      const list = referrers.get(`${repo}@${m[3]}`) ?? [];
      const type = url.searchParams.get('artifactType');
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' });
      return void res.end(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: type ? list.filter((d) => d.artifactType === type) : list,
        }),
      );
    }
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string' && !['host', 'authorization', 'connection', 'content-length'].includes(k))
        headers[k] = v;
    }
    const up = await fetch(`${upstream}${url.pathname}${url.search}`, {
      method: req.method ?? 'GET',
      headers,
      ...(body ? { body: new Uint8Array(body) } : {}),
      redirect: 'manual',
    });
    if (opts.referrers && m?.[2] === 'manifests' && req.method === 'PUT' && up.status === 201 && body) {
      try {
        const j = JSON.parse(body.toString()) as {
          subject?: { digest: string };
          artifactType?: string;
          mediaType?: string;
          config?: { mediaType: string };
          annotations?: Record<string, string>;
        };
        if (j.subject) {
          const digest = up.headers.get('docker-content-digest') as string;
          const list = referrers.get(`${repo}@${j.subject.digest}`) ?? [];
          list.push({
            mediaType: j.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
            digest,
            size: body.length,
            ...(j.artifactType || j.config?.mediaType
              ? { artifactType: j.artifactType ?? (j.config?.mediaType as string) }
              : {}),
            ...(j.annotations ? { annotations: j.annotations } : {}),
          });
          referrers.set(`${repo}@${j.subject.digest}`, list);
        }
      } catch {
        // not JSON: nothing to index
      }
    }
    const out: Record<string, string> = {};
    up.headers.forEach((v, k) => {
      if (k === 'location') out[k] = v.replace(upstream, self);
      else if (!['content-encoding', 'transfer-encoding', 'connection'].includes(k)) out[k] = v;
    });
    res.writeHead(up.status, out);
    res.end(Buffer.from(await up.arrayBuffer()));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(err.message);
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as AddressInfo).port;
  self = `http://127.0.0.1:${port}`;
  return {
    url: self,
    host: `127.0.0.1:${port}`,
    stats,
    fault: (f) => faults.push({ ...f }),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
