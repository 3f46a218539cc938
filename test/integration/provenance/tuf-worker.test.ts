import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { rootFingerprint } from '../../../src/adapters/sigstore/trust.ts';
import { present } from '../../../src/render/present.ts';
import { toTerminal } from '../../../src/render/terminal.ts';
import { TrustStatusStore } from '../../../src/store/provenance/trust-status.ts';
import { type MockSigstore, startMockSigstore } from '../../../src/testing/sigstore-mock.ts';
import { commandPorts, startWorkerProcess } from '../../../src/worker-process.ts';
import { type ScopeHarness, startScope } from '../../support/scope-harness.ts';
import { startTufRepo, type TufRepo } from '../../support/tuf-repo.ts';

const ID = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
const ISS = 'https://token.actions.githubusercontent.com';
const artifact = Buffer.from('release tarball\n');
const subject = {
  kind: 'blob' as const,
  digest: `sha256:${createHash('sha256').update(artifact).digest('hex')}`,
  bytes: artifact,
};

let sig: MockSigstore;
let repo: TufRepo;
let dir: string;
let h: ScopeHarness;

beforeAll(async () => {
  sig = await startMockSigstore();
  dir = await mkdtemp(join(tmpdir(), 'scope-tuf-worker-'));
  repo = await startTufRepo(dir);
  repo.publish(sig.trustedRoot);
  h = await startScope({
    worker: false,
    overrides: {
      provenance: {
        rules: [{ name: 'release', match: ['**'], keyless: [{ identity: ID, issuer: ISS }] }],
        tufRefresh: true,
        tufMirrorUrl: repo.url,
        tufInitialRoot: repo.initialRoot,
        tufCacheDir: join(dir, 'cache'),
      },
    },
  });
});

afterAll(async () => {
  await h.close();
  await repo.close();
  await sig.close();
  await rm(dir, { recursive: true, force: true });
});

test('the worker process refreshes the root at start; verify and status use it', async () => {
  const c = h.container;
  const ports = commandPorts(c);
  const bundle = await sig.keyless({ data: artifact }, { identity: ID, issuer: ISS });
  const rule = {
    keys: [],
    keyless: [{ identity: ID, issuer: ISS }],
    requireTlog: true,
    requireSignedTimestamp: false,
  };
  const check = () => ports.provenance?.ports.check({ form: 'bundle', bundle }, subject, rule).verdict;
  expect(check()).toBe('invalid');

  const worker = await startWorkerProcess(c);
  try {
    const store = new TrustStatusStore(c.redis, c.config.redis.prefix);
    const fingerprint = rootFingerprint(TrustedRoot.fromJSON(sig.trustedRoot));
    // Wait for the background refresh (start-up did not wait for it).
    for (let i = 0; i < 200; i++) {
      const { roots } = await store.list();
      if (roots[0]?.source === 'tuf' || roots[0]?.lastError) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    // The verify ports taken before the refresh see the new root: the view is swapped, not copied.
    expect(check()).toBe('verified');

    const report = await ports.status();
    expect(JSON.parse(JSON.stringify(report)).trustRoots).toEqual({
      workers: [expect.objectContaining({ source: 'tuf', mirror: repo.url, fingerprint, tufRefresh: true })],
      unreadable: 0,
    });
    const text = toTerminal(
      present({ kind: 'status', report }, { commandText: '/scope status', now: new Date() }),
    );
    expect(text).toContain(`public-good root from TUF ${repo.url}`);
    expect(text).toContain(fingerprint);
  } finally {
    await worker.stop();
  }
  expect((await new TrustStatusStore(c.redis, c.config.redis.prefix).list()).roots).toEqual([]);
});
