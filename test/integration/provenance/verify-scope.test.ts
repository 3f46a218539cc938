import { Queue, QueueEvents, Worker } from 'bullmq';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { PodRecord } from '../../../src/domain/inventory/inventory.ts';
import { parseVerifyScope } from '../../../src/domain/provenance/scope.ts';
import {
  queueFanOut,
  VERIFY_QUEUE,
  verifyChunkProcessor,
} from '../../../src/jobs/provenance/verify-chunks.ts';
import { verifyScope } from '../../../src/jobs/provenance/verify-scope.ts';
import { presentVerify } from '../../../src/render/provenance/present-verify.ts';
import { toTerminal } from '../../../src/render/terminal.ts';
import { MemoryInventory } from '../../../src/store/inventory/memory-inventory.ts';
import { VerificationCache } from '../../../src/store/provenance/verification-cache.ts';
import type { Pushed } from '../../../src/testing/oci-push.ts';
import { signAndPush } from '../../../src/testing/provenance-fixtures.ts';
import { ID, ISS, startWorld, type World } from '../../support/provenance.ts';
import { testRedis } from '../../support/redis.ts';

let w: World;
let images: Record<'ok' | 'unsigned' | 'evil' | 'tampered', Pushed>;
let inv: MemoryInventory;
const redis = testRedis();
const conn = redis.connect();

function pod(cluster: string, env: string, name: string, repo: string, image: Pushed): PodRecord {
  return {
    cluster,
    environment: env,
    namespace: 'apps',
    name: `${name}-0`,
    uid: `${cluster}-${name}`,
    workload: { kind: 'Deployment', name },
    containers: [
      {
        name: 'app',
        type: 'container',
        image: `${w.registry.host}/${repo}:v1`,
        repository: `${w.registry.host}/${repo}`,
        tag: 'v1',
        digest: image.digest,
      },
    ],
  };
}

beforeAll(async () => {
  w = await startWorld();
  const push = async (repo: string) => w.direct.image(repo, 'v1');
  images = {
    ok: await push('keyless/api'),
    unsigned: await push('keyless/worker'),
    evil: await push('keyless/agent'),
    tampered: await push('keyless/cron'),
  };
  const who = (identity: string) => ({ signer: { keyless: { identity, issuer: ISS } } });
  await signAndPush(w.direct, w.sigstore, 'keyless/api', images.ok, 'cosign-sig', who(ID));
  await signAndPush(
    w.direct,
    w.sigstore,
    'keyless/agent',
    images.evil,
    'referrers-tag',
    who('https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main'),
  );
  await signAndPush(w.direct, w.sigstore, 'keyless/cron', images.tampered, 'cosign-att', {
    ...who(ID),
    tamper: true,
  });
  inv = new MemoryInventory(
    [
      pod('prod-eu', 'prod', 'api', 'keyless/api', images.ok),
      pod('prod-us', 'prod', 'api', 'keyless/api', images.ok),
      pod('prod-eu', 'prod', 'worker', 'keyless/worker', images.unsigned),
      pod('prod-eu', 'prod', 'agent', 'keyless/agent', images.evil),
      pod('dev-1', 'dev', 'cron', 'keyless/cron', images.tampered),
      {
        ...pod('dev-1', 'dev', 'ext', 'keyless/api', images.ok),
        containers: [
          {
            name: 'x',
            type: 'container',
            image: 'quay.io/other/thing:1',
            repository: 'quay.io/other/thing',
            digest: `sha256:${'3'.repeat(64)}`,
          },
        ],
      },
    ],
    ['prod-eu', 'prod-us', 'dev-1'].map((c) => ({
      cluster: c,
      environment: c.startsWith('prod') ? 'prod' : 'dev',
      ok: true,
      pods: 1,
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
    })),
  );
}, 60_000);
afterAll(async () => {
  await conn.quit();
  await w?.close();
});

const ports = (p = w.provenance, cache?: VerificationCache) => ({
  policy: p.policy,
  ports: p.ports,
  trust: p.trust,
  ...(cache ? { cache } : {}),
});

test('env:prod verifies each running digest once, with counts and where each runs', async () => {
  const r = await verifyScope(inv, ports(), parseVerifyScope('env:prod'), new Date());
  expect(r.counts).toMatchObject({ verified: 1, unsigned: 1, untrusted: 1, invalid: 0 });
  expect(r.results[0]?.outcome.status).toBe('untrusted');
  const ok = r.results.find((x) => x.digest === images.ok.digest);
  expect(ok?.runsAt.map((a) => a.cluster).sort()).toEqual(['prod-eu', 'prod-us']);
});

test('all: every outcome class, failing first, and the message says why each failed', async () => {
  const progress: number[] = [];
  const r = await verifyScope(inv, ports(), parseVerifyScope('all'), new Date(), undefined, (d) =>
    progress.push(d),
  );
  expect(r.counts).toMatchObject({
    verified: 1,
    unsigned: 1,
    untrusted: 1,
    invalid: 1,
    'unknown-registry': 1,
  });
  expect(r.results.map((x) => x.outcome.status)).toEqual([
    'invalid',
    'untrusted',
    'unsigned',
    'unknown-registry',
    'verified',
  ]);
  expect(progress.at(-1)).toBe(5);
  const text = toTerminal(presentVerify(r, { commandText: '/scope verify all', now: new Date() }), {
    color: false,
  });
  expect(text).toContain('4 of 5 running digests');
  expect(text).toContain('cosign .att tag');
  expect(text).toContain('https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main');
  expect(text).toContain('quay.io is not an allowed registry');
  expect(text).toContain('dev-1/apps/deployment/cron');
});

test('a cluster, a namespace, an image and a digest are scopes too', async () => {
  expect((await verifyScope(inv, ports(), parseVerifyScope('dev-1'), new Date())).results).toHaveLength(2);
  expect(
    (await verifyScope(inv, ports(), parseVerifyScope('prod-eu/apps'), new Date())).results,
  ).toHaveLength(3);
  const img = await verifyScope(inv, ports(), parseVerifyScope(`${w.registry.host}/keyless/api`), new Date());
  expect(img.counts.verified).toBe(1);
  const d = await verifyScope(inv, ports(), parseVerifyScope(images.evil.digest), new Date());
  expect(d.results.map((x) => x.outcome.status)).toEqual(['untrusted']);
});

test('results are cached per policy version in Redis; a policy change invalidates them; a bad entry is a miss', async () => {
  const cache = new VerificationCache(conn, redis.prefix, 600);
  const first = await verifyScope(inv, ports(w.provenance, cache), parseVerifyScope('all'), new Date());
  expect(first.cached).toBe(0);
  const requests = w.provenance.client.stats.requests;
  const second = await verifyScope(inv, ports(w.provenance, cache), parseVerifyScope('all'), new Date());
  expect(second.cached).toBe(5);
  expect(w.provenance.client.stats.requests).toBe(requests);
  expect(second.counts).toEqual(first.counts);
  // Corrupt one entry: it is validated on read and verified again.
  const keys = await conn.keys(`${redis.prefix}:prov:*:${images.ok.digest}:*`);
  expect(keys).toHaveLength(1);
  await conn.set(
    keys[0] as string,
    JSON.stringify({ digest: images.ok.digest, outcome: { status: 'verified' } }),
  );
  const third = await verifyScope(inv, ports(w.provenance, cache), parseVerifyScope('all'), new Date());
  expect(third.cached).toBe(4);
  expect(third.counts.verified).toBe(1);
  // A changed policy (the trusted identity is revoked) has another version: nothing is reused.
  const rules = w.rules(w.registry.host) as Array<Record<string, unknown>>;
  const revoked = w.build({ rules: [{ ...rules[0], keyless: [{ identity: `${ID}-v2`, issuer: ISS }] }] });
  expect(revoked.policy.version).not.toBe(w.provenance.policy.version);
  const after = await verifyScope(inv, ports(revoked, cache), parseVerifyScope('all'), new Date());
  expect(after.cached).toBe(0);
  expect(after.counts.verified).toBe(0);
  expect(after.counts.untrusted).toBe(2);
});

test('a large scope fans out as child jobs on a BullMQ queue, with the same results; other policies are refused', async () => {
  const { prefix } = redis;
  const eventsConn = redis.connect();
  const workerConn = redis.connect();
  const queue = new Queue(VERIFY_QUEUE, { connection: conn, prefix });
  const events = new QueueEvents(VERIFY_QUEUE, { connection: eventsConn, prefix });
  const p = w.provenance;
  const worker = new Worker(VERIFY_QUEUE, verifyChunkProcessor({ policy: p.policy, ports: p.ports }), {
    connection: workerConn,
    prefix,
    concurrency: 2,
  });
  try {
    const fanOut = queueFanOut(queue, events, p.policy.version, { chunkSize: 2, attempts: 1 });
    const progress: number[] = [];
    const fanned = await verifyScope(
      inv,
      { ...ports(), fanOut, fanOutFrom: 3 },
      parseVerifyScope('all'),
      new Date(),
      undefined,
      (d) => progress.push(d),
    );
    const local = await verifyScope(inv, ports(), parseVerifyScope('all'), new Date());
    expect(fanned.results.map((r) => [r.digest, r.outcome.status])).toEqual(
      local.results.map((r) => [r.digest, r.outcome.status]),
    );
    expect((await queue.getJobCounts('completed')).completed).toBe(3);
    expect(progress.at(-1)).toBe(5);
    const other = await queue.add(
      'verify-chunk',
      {
        policyVersion: 'someone-elses',
        now: new Date().toISOString(),
        targets: [{ registry: w.registry.host, repository: 'keyless/api', digest: images.ok.digest }],
      },
      { attempts: 1 },
    );
    await expect(other.waitUntilFinished(events, 15_000)).rejects.toThrow('policy');
  } finally {
    await worker.close();
    await events.close();
    await queue.close();
    await eventsConn.quit();
    await workerConn.quit();
  }
});
