import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoriesSchema } from '../../../src/adapters/feeds/config.ts';
import { fetchFeed } from '../../../src/adapters/feeds/fetch.ts';
import { readFeed } from '../../../src/adapters/feeds/read-feed.ts';
import { pollFeed } from '../../../src/jobs/advisories/poll-feed.ts';
import { createLogger } from '../../../src/log.ts';
import { AdvisoryStore } from '../../../src/store/advisories/advisory-store.ts';
import { testRedis } from '../../support/redis.ts';

const osv = (id: string, name: string) => ({
  id,
  modified: '2026-11-01T00:00:00Z',
  affected: [
    { package: { ecosystem: 'npm', name }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }] },
  ],
});

describe('feeds', () => {
  let server: Server;
  let base: string;
  let host: string;
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_q, r) => r.end();
  let redis: Redis;
  let dir: string;

  beforeAll(async () => {
    server = createServer((q, r) => handler(q, r));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    base = `http://${host}`;
    redis = testRedis().connect();
    dir = await mkdtemp(join(tmpdir(), 'scope-feeds-'));
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  });

  const policy = () => ({ allowedHosts: [host], allowLoopbackHttp: true });

  it('reads a zip of OSV records entry by entry; a malformed entry is reported and skipped', async () => {
    const zip = zipSync({
      'MAL-1.json': strToU8(JSON.stringify(osv('MAL-2025-0001', 'evil-a'))),
      'MAL-2.json': strToU8(JSON.stringify(osv('MAL-2025-0002', 'evil-b'))),
      'broken.json': strToU8('{"id": "MAL-2025-0003", '),
      'README.txt': strToU8('ignored'),
    });
    handler = (_q, r) => {
      r.writeHead(200, { 'content-type': 'application/zip' });
      r.end(Buffer.from(zip));
    };
    const feed = {
      name: 'osv-npm',
      kind: 'osv' as const,
      url: `${base}/npm/all.zip`,
      intervalSeconds: 3600,
      enabled: true,
      maxMegabytes: 10,
    };
    const read = await readFeed(feed, policy(), {});
    if (read.unchanged) throw new Error('expected content');
    expect(read.outcome.advisories.map((a) => a.id).sort()).toEqual(['MAL-2025-0001', 'MAL-2025-0002']);
    expect(read.outcome.problems).toEqual([
      expect.objectContaining({ source: 'osv-npm', record: 'broken.json' }),
    ]);
  });

  it('checks every redirect hop against the allow-list', async () => {
    handler = (_q, r) => {
      r.writeHead(302, { location: 'https://evil.example.net/feed.json' });
      r.end();
    };
    await expect(fetchFeed(`${base}/feed.json`, policy(), {}, { maxBytes: 1000 })).rejects.toThrow(
      /host evil.example.net is not in advisories.allowedHosts/,
    );
  });

  it('refuses feed URLs outside the allow-list, plain http to remote hosts and credentials at config time', () => {
    const bad = advisoriesSchema.safeParse({
      feeds: [
        { name: 'a', kind: 'osv', url: 'https://osv.example.com/all.zip' },
        { name: 'b', kind: 'osv', url: 'http://osv.example.com/all.zip' },
        { name: 'c', kind: 'osv', url: 'https://u:p@osv.example.com/all.zip' },
        { name: 'd', kind: 'osv', path: '/x', url: 'https://osv.example.com/x' },
      ],
      allowedHosts: ['osv.example.com'],
    });
    expect(bad.success).toBe(false);
    const messages = bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(messages).toEqual([
      'feeds.3: set exactly one of path or url',
      'feeds.1.url: feed URLs must use https:// (http:// only to loopback with allowLoopbackHttp)',
      'feeds.2.url: credentials in feed URLs are not allowed',
    ]);
    expect(
      advisoriesSchema.safeParse({ feeds: [{ name: 'a', kind: 'osv', url: 'https://other.example.com/x' }] })
        .error?.issues[0]?.message,
    ).toContain('not in advisories.allowedHosts');
  });

  it('backs off after failures and recovers; local directories are re-read only when they change', async () => {
    const store = new AdvisoryStore(redis, testRedis().prefix);
    const log = createLogger('silent', 'test');
    let status = 500;
    let hits = 0;
    handler = (_q, r) => {
      hits++;
      r.writeHead(status, { 'content-type': 'application/json' });
      r.end(JSON.stringify([osv('GHSA-aaaa-bbbb-cccc', 'x')]));
    };
    const config = advisoriesSchema.parse({
      feeds: [{ name: 'remote', kind: 'osv', url: `${base}/osv.json`, intervalSeconds: 60 }],
      allowedHosts: [host],
      allowLoopbackHttp: true,
    });
    const t0 = new Date('2026-12-01T00:00:00Z');
    const at = (s: number) => new Date(t0.getTime() + s * 1000);
    expect(await pollFeed('remote', { config, store, log }, t0)).toMatchObject({
      status: 'failed',
      failures: 1,
    });
    expect(await pollFeed('remote', { config, store, log }, at(60))).toMatchObject({
      status: 'failed',
      failures: 2,
    });
    // Two failures: wait 2 intervals; a scheduler tick in between does not touch the server.
    expect(await pollFeed('remote', { config, store, log }, at(120))).toMatchObject({
      status: 'backing-off',
    });
    expect(hits).toBe(2);
    status = 200;
    expect(await pollFeed('remote', { config, store, log }, at(180))).toMatchObject({
      status: 'updated',
      records: 1,
    });
    expect((await store.feedState('remote')).failures).toBe(0);

    await writeFile(join(dir, 'a.json'), JSON.stringify(osv('GHSA-loca-loca-loca', 'y')));
    const dirFeed = {
      name: 'local',
      kind: 'osv' as const,
      path: dir,
      intervalSeconds: 60,
      enabled: true,
      maxMegabytes: 10,
    };
    const first = await readFeed(dirFeed, policy(), {});
    if (first.unchanged) throw new Error('expected content');
    expect(await readFeed(dirFeed, policy(), first.validators)).toEqual({ unchanged: true });
    await utimes(join(dir, 'a.json'), new Date(), new Date(Date.now() + 5000));
    expect((await readFeed(dirFeed, policy(), first.validators)).unchanged).toBe(false);
  });
});
