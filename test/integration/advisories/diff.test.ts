import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoriesSchema } from '../../../src/adapters/feeds/config.ts';
import { FileSbomSource } from '../../../src/adapters/sbom/file-source.ts';
import { parseCommand } from '../../../src/domain/command.ts';
import { pollFeed } from '../../../src/jobs/advisories/poll-feed.ts';
import { runCommand } from '../../../src/jobs/run-command.ts';
import { createLogger } from '../../../src/log.ts';
import { AdvisoryStore } from '../../../src/store/advisories/advisory-store.ts';
import { MemoryInventory } from '../../../src/store/inventory/memory-inventory.ts';
import { testRedis } from '../../support/redis.ts';

const GOOD = `sha256:${'a'.repeat(64)}`;
const BAD = `sha256:${'b'.repeat(64)}`;

describe('/scope diff <known-good> <suspicious>', () => {
  let redis: Redis;
  let dir: string;
  beforeAll(async () => {
    redis = testRedis().connect();
    dir = await mkdtemp(join(tmpdir(), 'scope-diff-'));
  });
  afterAll(async () => {
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows added, removed and changed packages and flags the injected dependency', async () => {
    const suspicious = JSON.parse(await readFile('test/fixtures/advisories/app.cdx.json', 'utf8'));
    const good = structuredClone(suspicious);
    good.components = good.components.filter(
      (c: { name: string }) => c.name !== 'flatmap-stream' && c.name !== 'requests',
    );
    good.components.find((c: { name: string }) => c.name === 'event-stream').version = '3.3.5';
    good.components.find((c: { name: string }) => c.name === 'event-stream').purl =
      'pkg:npm/event-stream@3.3.5';
    good.components.push({ type: 'library', name: 'ms', version: '2.1.3', purl: 'pkg:npm/ms@2.1.3' });
    await writeFile(join(dir, 'good.json'), JSON.stringify(good));
    const config = advisoriesSchema.parse({
      feeds: [{ name: 'osv', kind: 'osv', path: 'test/fixtures/advisories/osv' }],
      sboms: [
        { digest: GOOD, path: join(dir, 'good.json') },
        { repository: 'registry.example.com/shop/app', path: 'test/fixtures/advisories/app.cdx.json' },
      ],
    });
    const store = new AdvisoryStore(redis, testRedis().prefix);
    expect(await pollFeed('osv', { config, store, log: createLogger('silent', 'test') })).toMatchObject({
      status: 'updated',
    });
    const ports = {
      inventory: new MemoryInventory([], []),
      status: async () => ({
        queues: [],
        workers: [],
        clusters: [],
        generatedAt: '',
        completeness: 'unknown' as const,
        clustersAnswered: 0,
        clustersTotal: 0,
      }),
      advisories: { store, config, sboms: new FileSbomSource(config.sboms) },
    };
    const result = await runCommand(parseCommand(`diff ${GOOD} registry.example.com/shop/app:2.4.0`), ports);
    if (result.kind !== 'diff') throw new Error(result.kind);
    const r = result.report;
    expect(r.diff.added.map((c) => c.name)).toEqual(['flatmap-stream', 'requests']);
    expect(r.diff.removed.map((c) => c.name)).toEqual(['ms']);
    expect(r.diff.changed.map((c) => `${c.after.name} ${c.before.version}→${c.after.version}`)).toEqual([
      'event-stream 3.3.5→3.3.6',
    ]);
    expect(r.flagged.map((f) => `${f.component.name} ${f.advisory.id}`).sort()).toEqual([
      'event-stream GHSA-event-strm-0001',
      'flatmap-stream MAL-2018-0001',
    ]);
    await expect(runCommand(parseCommand(`diff ${BAD} ${GOOD}`), ports)).rejects.toThrow(
      /No SBOM is known for sha256:b/,
    );
  });

  it('/scope watch and unwatch keep one subscription per channel, per feed or all', async () => {
    const config = advisoriesSchema.parse({
      feeds: [
        { name: 'osv', kind: 'osv', path: 'test/fixtures/advisories/osv' },
        { name: 'iocs', kind: 'ioc', path: 'test/fixtures/advisories/iocs.csv' },
      ],
    });
    const store = new AdvisoryStore(redis, testRedis().prefix);
    const ports = {
      inventory: new MemoryInventory([], []),
      status: async () => ({
        queues: [],
        workers: [],
        clusters: [],
        generatedAt: '',
        completeness: 'unknown' as const,
        clustersAnswered: 0,
        clustersTotal: 0,
      }),
      advisories: { store, config, sboms: new FileSbomSource([]) },
    };
    const ctx = { channelId: 'C0INC', userId: 'U0ME' };
    const run = (text: string) => runCommand(parseCommand(text), ports, undefined, ctx);
    await run('watch osv');
    await run('watch iocs');
    expect((await store.subscriptions()).map((x) => x.feeds)).toEqual([['osv', 'iocs']]);
    await run('unwatch osv');
    expect((await store.subscriptions()).map((x) => x.feeds)).toEqual([['iocs']]);
    await run('watch all');
    expect((await store.subscriptions()).map((x) => x.feeds)).toEqual(['all']);
    await run('unwatch');
    expect(await store.subscriptions()).toEqual([]);
    await expect(run('watch nosuchfeed')).rejects.toThrow(/no feed named nosuchfeed/);
    await expect(runCommand(parseCommand('watch all'), ports)).rejects.toThrow(/per channel/);
  });
});
