import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoriesSchema } from '../../../src/adapters/feeds/config.ts';
import { FileSbomSource } from '../../../src/adapters/sbom/file-source.ts';
import type { PodRecord } from '../../../src/domain/inventory/inventory.ts';
import { AdvisoryMatcher } from '../../../src/jobs/advisories/matcher.ts';
import { pollFeed } from '../../../src/jobs/advisories/poll-feed.ts';
import { createLogger } from '../../../src/log.ts';
import { AdvisoryStore } from '../../../src/store/advisories/advisory-store.ts';
import { MemoryInventory } from '../../../src/store/inventory/memory-inventory.ts';
import { testRedis } from '../../support/redis.ts';

const APP = `sha256:${'c'.repeat(64)}`;
const WORKER = `sha256:${'d'.repeat(64)}`;

function pod(cluster: string, name: string, image: string, digest: string): PodRecord {
  return {
    cluster,
    environment: cluster.startsWith('prod') ? 'prod' : 'staging',
    namespace: 'shop',
    name: `${name}-abc`,
    uid: `${cluster}-${name}`,
    workload: { kind: 'Deployment', name },
    containers: [
      { name, type: 'container', image, repository: image.split(':')[0] as string, tag: '1', digest },
    ],
  };
}

describe('package advisories reach running workloads through their image SBOMs', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = testRedis().connect();
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('re-match lists workload, component and version; near-misses stay out', async () => {
    const config = advisoriesSchema.parse({
      feeds: [{ name: 'osv', kind: 'osv', path: 'test/fixtures/advisories/osv' }],
      sboms: [
        { digest: APP, path: 'test/fixtures/advisories/app.cdx.json' },
        { repository: 'registry.example.com/shop/worker', path: 'test/fixtures/advisories/worker.spdx.json' },
      ],
    });
    const store = new AdvisoryStore(redis, testRedis().prefix);
    const log = createLogger('silent', 'test');
    await pollFeed('osv', { config, store, log });
    const now = new Date().toISOString();
    const inventory = new MemoryInventory(
      [
        pod('prod-eu', 'app', 'registry.example.com/shop/app:1', APP),
        pod('stage-1', 'worker', 'registry.example.com/shop/worker:1', WORKER),
      ],
      ['prod-eu', 'stage-1'].map((cluster) => ({
        cluster,
        environment: cluster.startsWith('prod') ? 'prod' : 'staging',
        ok: true,
        pods: 1,
        startedAt: now,
        finishedAt: now,
      })),
    );
    const matcher = new AdvisoryMatcher({
      config,
      store,
      inventory,
      sboms: new FileSbomSource(config.sboms),
      log,
    });
    const outcome = await matcher.rematch();
    expect(outcome).toMatchObject({ indexRebuilt: true, images: 2, sboms: 2 });
    const summaries = (await store.matches()).sort((a, b) => a.id.localeCompare(b.id));
    expect(
      summaries.map(
        (m) =>
          `${m.id} ${m.findings.map((f) => `${f.cluster}/${f.workload} ${f.component?.purl}`).join(',')}`,
      ),
    ).toEqual([
      'DSA-xz-backdoor stage-1/Deployment/worker pkg:deb/debian/xz-utils@5.6.0-0.2',
      'GHSA-event-strm-0001 prod-eu/Deployment/app pkg:npm/event-stream@3.3.6',
      'GHSA-ng00-core-0001 prod-eu/Deployment/app pkg:npm/core@17.0.1',
      'MAL-2018-0001 prod-eu/Deployment/app pkg:npm/flatmap-stream@0.1.1',
      'MAL-2022-ctx stage-1/Deployment/worker pkg:pypi/ctx@0.2.6',
      'PYSEC-typing-ext stage-1/Deployment/worker pkg:pypi/typing-extensions@4.8.0',
    ]);
    // Same fleet, same SBOM files: the component index is reused.
    expect((await matcher.rematch()).indexRebuilt).toBe(false);
  });
});
