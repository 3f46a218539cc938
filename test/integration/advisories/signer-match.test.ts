import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebClient } from '@slack/web-api';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoriesSchema } from '../../../src/adapters/feeds/config.ts';
import { FileSbomSource } from '../../../src/adapters/sbom/file-source.ts';
import { SlackAdvisoryPoster } from '../../../src/adapters/slack/advisory-poster.ts';
import type { PodRecord } from '../../../src/domain/inventory/inventory.ts';
import { parseVerifyScope } from '../../../src/domain/provenance/scope.ts';
import { showAdvisory } from '../../../src/jobs/advisories/commands.ts';
import { AdvisoryMatcher } from '../../../src/jobs/advisories/matcher.ts';
import { pollFeed } from '../../../src/jobs/advisories/poll-feed.ts';
import { type VerifyChunkData, verifyChunkProcessor } from '../../../src/jobs/provenance/verify-chunks.ts';
import { verifyScope } from '../../../src/jobs/provenance/verify-scope.ts';
import { createLogger } from '../../../src/log.ts';
import { presentAdvisory } from '../../../src/render/advisories/present-commands.ts';
import { toTerminal } from '../../../src/render/terminal.ts';
import { AdvisoryStore } from '../../../src/store/advisories/advisory-store.ts';
import { NotificationStore } from '../../../src/store/advisories/notification-store.ts';
import { MemoryInventory } from '../../../src/store/inventory/memory-inventory.ts';
import { SignerRecords } from '../../../src/store/provenance/signer-records.ts';
import { type FakeSlack, startFakeSlack } from '../../../src/testing/fake-slack.ts';
import type { Pushed } from '../../../src/testing/oci-push.ts';
import { signAndPush } from '../../../src/testing/provenance-fixtures.ts';
import { ID, ISS, startWorld, type World } from '../../support/provenance.ts';
import { testRedis } from '../../support/redis.ts';

const CHANNEL = 'C0INCIDENT';
const EVIL = 'https://github.com/evil/x/.github/workflows/a.yml@refs/heads/main';

/**
 * Signer-identity IOCs end to end: real signatures made in the test (loopback Sigstore, real registry), real
 * `/scope verify` writing signer records to a real Redis, a feed, the re-match, and notifications in the
 * fake Slack.
 */
describe('signer-identity IOCs match what verification saw sign the fleet', { timeout: 90_000 }, () => {
  let w: World;
  let slack: FakeSlack;
  let dir: string;
  let images: Record<'api' | 'agent' | 'worker', Pushed>;
  let inv: MemoryInventory;
  const redis = testRedis();
  const conn = redis.connect();
  const log = createLogger('silent', 'test');

  const pod = (cluster: string, name: string, image: Pushed): PodRecord => ({
    cluster,
    environment: cluster.startsWith('prod') ? 'prod' : 'dev',
    namespace: 'payments',
    name: `${name}-0`,
    uid: `${cluster}-${name}`,
    workload: { kind: 'Deployment', name },
    containers: [
      {
        name,
        type: 'container',
        image: `${w.registry.host}/keyless/${name}:v1`,
        repository: `${w.registry.host}/keyless/${name}`,
        tag: 'v1',
        digest: image.digest,
      },
    ],
  });

  beforeAll(async () => {
    w = await startWorld();
    slack = await startFakeSlack();
    slack.addChannel({ id: CHANNEL, name: 'incident' });
    dir = await mkdtemp(join(tmpdir(), 'scope-signers-'));
    images = {
      api: await w.direct.image('keyless/api', 'v1'),
      agent: await w.direct.image('keyless/agent', 'v1'),
      worker: await w.direct.image('keyless/worker', 'v1'),
    };
    const by = (identity: string) => ({ signer: { keyless: { identity, issuer: ISS } } });
    await signAndPush(w.direct, w.sigstore, 'keyless/api', images.api, 'cosign-sig', by(ID));
    await signAndPush(w.direct, w.sigstore, 'keyless/agent', images.agent, 'referrers-tag', by(EVIL));
    await signAndPush(w.direct, w.sigstore, 'keyless/worker', images.worker, 'cosign-sig', by(ID));
    const now = new Date().toISOString();
    inv = new MemoryInventory(
      [
        pod('prod-eu', 'api', images.api),
        pod('prod-eu', 'agent', images.agent),
        pod('dev-1', 'worker', images.worker),
      ],
      ['prod-eu', 'dev-1'].map((cluster) => ({
        cluster,
        environment: cluster.startsWith('prod') ? 'prod' : 'dev',
        ok: true,
        pods: 1,
        startedAt: now,
        finishedAt: now,
      })),
    );
  }, 60_000);

  afterAll(async () => {
    await conn.quit();
    await slack?.close();
    await w?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const signers = () => new SignerRecords(conn, redis.prefix, 90 * 86_400);
  const verify = (scope: string) =>
    verifyScope(
      inv,
      {
        policy: w.provenance.policy,
        ports: w.provenance.ports,
        trust: w.provenance.trust,
        signers: signers(),
      },
      parseVerifyScope(scope),
      new Date(),
    );

  async function setUp(indicators: unknown[]) {
    const path = join(dir, `iocs-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(path, JSON.stringify({ indicators }));
    const config = advisoriesSchema.parse({ feeds: [{ name: 'vendor', kind: 'ioc', path }] });
    const prefix = `${redis.prefix}:${Math.random().toString(36).slice(2, 8)}`;
    const store = new AdvisoryStore(conn, prefix);
    await pollFeed('vendor', { config, store, log });
    await store.watch({ channel: CHANNEL, feeds: 'all', at: new Date().toISOString() });
    const matcher = new AdvisoryMatcher({
      config,
      store,
      inventory: inv,
      sboms: new FileSbomSource([]),
      signers: signers(),
      log,
      notify: {
        poster: new SlackAdvisoryPoster(new WebClient(slack.botToken, { slackApiUrl: slack.apiUrl })),
        notes: new NotificationStore(conn, prefix),
        log,
      },
    });
    return { matcher, store, config };
  }
  const ioc = (id: string, identity: string, issuer?: string) => ({
    id,
    type: 'signer-identity',
    value: identity,
    title: `Compromised signer ${id}`,
    severity: 'critical',
    ...(issuer ? { issuer } : {}),
  });
  const posts = (id: string) =>
    slack
      .callsTo('chat.postMessage')
      .filter((c) => String(c.body.text ?? '').includes(`Advisory ${id}`) && !c.body.thread_ts);
  const shown = (id: string) =>
    JSON.stringify(slack.messages(CHANNEL).find((m) => m.text.includes(`Advisory ${id}`)));

  it('verification records the signers, the re-match posts exactly one notification naming identity, issuer, digest and where', async () => {
    const report = await verify('prod-eu');
    expect(report.counts).toMatchObject({ verified: 1, untrusted: 1 });
    const { matcher } = await setUp([ioc('IOC-SIG-1', ID, ISS)]);
    const outcome = await matcher.rematch();
    expect(outcome).toMatchObject({ matched: 1, signerRecords: 2 });
    await matcher.rematch();
    expect(posts('IOC-SIG-1')).toHaveLength(1);
    const msg = shown('IOC-SIG-1');
    expect(msg).toContain(ID);
    expect(msg).toContain(ISS);
    expect(msg).toContain(images.api.digest);
    expect(msg).toContain('payments/Deployment/api');
    expect(msg).toContain('prod-eu');
    expect(msg).toContain('running now');
    expect(msg).toContain('cosign .sig tag');
    // The agent, signed by someone else, is not named; the worker in dev-1 was never verified: unknown.
    expect(msg).not.toContain(images.agent.digest);
    expect(msg).not.toContain('Deployment/worker');
    expect(msg).toContain('1 running digest has never been verified');
    expect(msg).toContain('/scope verify all');
  });

  it('an untrusted signer (valid signature, not in the policy) is matched too', async () => {
    const { matcher } = await setUp([ioc('IOC-SIG-EVIL', EVIL)]);
    await matcher.rematch();
    const msg = shown('IOC-SIG-EVIL');
    expect(msg).toContain(images.agent.digest);
    expect(msg).toContain('payments/Deployment/agent');
    expect(msg).toContain('not trusted by the policy');
  });

  it('look-alikes (a prefix of the identity, the identity with another issuer) match nothing; the unknown is said', async () => {
    const prefix = ID.slice(0, ID.indexOf('@'));
    const { matcher, store, config } = await setUp([
      ioc('IOC-SIG-PREFIX', prefix),
      ioc('IOC-SIG-ISSUER', ID, 'https://accounts.google.com'),
    ]);
    await matcher.rematch();
    for (const id of ['IOC-SIG-PREFIX', 'IOC-SIG-ISSUER']) {
      expect(posts(id)).toHaveLength(1);
      const msg = shown(id);
      expect(msg).not.toContain(images.api.digest);
      expect(msg).not.toContain('Deployment/api');
      expect(msg).toContain('no signature by it found so far');
      expect(msg).toContain('1 running digest has never been verified');
    }
    // `/scope advisory <id>` says the same: no match among what was verified, and what was not.
    const r = await showAdvisory({ store, config, sboms: new FileSbomSource([]) }, 'IOC-SIG-PREFIX');
    const text = toTerminal(
      presentAdvisory(r, { commandText: '/scope advisory IOC-SIG-PREFIX', now: new Date() }),
      { color: false },
    );
    expect(text).toContain(
      `1 running digest has never been verified; whether it was signed by ${prefix} is unknown — run /scope verify all`,
    );
    expect(text).not.toContain('It matches nothing');
  });

  it('once the rest is verified, the unknown line goes and the worker signed by the identity appears', async () => {
    const { matcher } = await setUp([ioc('IOC-SIG-2', ID, ISS)]);
    await matcher.rematch();
    expect(shown('IOC-SIG-2')).toContain('never been verified');
    await verify('all');
    await matcher.rematch();
    expect(posts('IOC-SIG-2')).toHaveLength(1);
    const msg = shown('IOC-SIG-2');
    expect(msg).toContain('Deployment/worker');
    expect(msg).toContain(images.worker.digest);
    expect(msg).not.toContain('never been verified');
  });

  it('a fan-out chunk records the signers of what it verified', async () => {
    const records = new SignerRecords(conn, `${redis.prefix}:chunk`, 90 * 86_400);
    const process = verifyChunkProcessor({
      policy: w.provenance.policy,
      ports: w.provenance.ports,
      signers: records,
    });
    const data: VerifyChunkData = {
      policyVersion: w.provenance.policy.version,
      now: new Date().toISOString(),
      targets: [{ registry: w.registry.host, repository: 'keyless/worker', digest: images.worker.digest }],
    };
    await process({ id: 'chunk-1', data } as Job<VerifyChunkData>);
    const got = await records.getMany([images.worker.digest, images.api.digest]);
    expect([...got.keys()]).toEqual([images.worker.digest]);
    expect(got.get(images.worker.digest)?.observations).toMatchObject([
      { signer: { kind: 'keyless', identity: ID, issuer: ISS }, path: 'cosign-sig', cryptographic: true },
    ]);
  });
});
