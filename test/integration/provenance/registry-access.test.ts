import { chmod, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { verifyDigest } from '../../../src/domain/provenance/verify-digest.ts';
import { signAndPush } from '../../../src/testing/provenance-fixtures.ts';
import { freePort } from '../../../src/testing/redis-server.ts';
import { type RegistryProxy, startRegistryProxy } from '../../../src/testing/registry-proxy.ts';
import { startMockSigstore } from '../../../src/testing/sigstore-mock.ts';
import { ID, ISS, startWorld, target, type World } from '../../support/provenance.ts';

let w: World;
let authProxy: RegistryProxy;
beforeAll(async () => {
  w = await startWorld();
  // Token auth stand-in in front of the same registry: alice may pull everything but keyless/secret*.
  authProxy = await startRegistryProxy(w.registry.url, {
    auth: { users: { alice: 's3cret' }, deny: (repo) => repo.startsWith('keyless/secret') },
  });
}, 60_000);
afterAll(async () => {
  await authProxy?.close();
  await w?.close();
});

const keyless = { signer: { keyless: { identity: ID, issuer: ISS } } };
const now = () => new Date();

async function signedImage(repo: string, tag = 'v1') {
  const image = await w.direct.image(repo, tag);
  await signAndPush(w.direct, w.sigstore, repo, image, 'cosign-sig', keyless);
  return image;
}

function withAuthProxy(dockerConfig: object | undefined) {
  const path = join(w.dir, `docker-${Math.random().toString(36).slice(2)}.json`);
  return writeFile(path, JSON.stringify(dockerConfig ?? {})).then(() =>
    w.build({
      registries: [{ host: authProxy.host, endpoint: authProxy.url, retries: 0 }],
      dockerConfig: path,
      rules: w.rules(authProxy.host),
    }),
  );
}

test('bearer-token challenge with credentials from Docker config.json; the token is reused per repository', async () => {
  const a = await signedImage('keyless/private-a');
  const b = await signedImage('keyless/private-a', 'v2');
  const auth = Buffer.from('alice:s3cret').toString('base64');
  const p = await withAuthProxy({ auths: { [authProxy.host]: { auth } } });
  const before = authProxy.stats.tokenRequests;
  const r1 = await verifyDigest(p.ports, p.policy, target(authProxy.host, 'keyless/private-a', a), now());
  expect(r1.outcome.status).toBe('verified');
  const tokensAfterFirst = authProxy.stats.tokenRequests;
  expect(tokensAfterFirst).toBeGreaterThan(before);
  const r2 = await verifyDigest(p.ports, p.policy, target(authProxy.host, 'keyless/private-a', b), now());
  expect(r2.outcome.status).toBe('verified');
  expect(authProxy.stats.tokenRequests).toBe(tokensAfterFirst);
});

test('credentials from a Docker credential helper (credHelpers)', async () => {
  const image = await signedImage('keyless/helper');
  const bin = join(w.dir, 'bin');
  await import('node:fs/promises').then((fs) => fs.mkdir(bin, { recursive: true }));
  const helper = join(bin, 'docker-credential-scopetest');
  await writeFile(
    helper,
    '#!/bin/sh\nread host\necho "{\\"Username\\":\\"alice\\",\\"Secret\\":\\"s3cret\\"}"\n',
  );
  await chmod(helper, 0o755);
  const oldPath = process.env.PATH;
  process.env.PATH = `${bin}:${oldPath}`;
  try {
    const p = await withAuthProxy({ credHelpers: { [authProxy.host]: 'scopetest' } });
    const r = await verifyDigest(p.ports, p.policy, target(authProxy.host, 'keyless/helper', image), now());
    expect(r.outcome.status).toBe('verified');
  } finally {
    process.env.PATH = oldPath;
  }
});

test('access denied is an error that says so, never "unsigned"', async () => {
  const image = await signedImage('keyless/secret-app');
  const auth = Buffer.from('alice:s3cret').toString('base64');
  const p = await withAuthProxy({ auths: { [authProxy.host]: { auth } } });
  const r = await verifyDigest(p.ports, p.policy, target(authProxy.host, 'keyless/secret-app', image), now());
  expect(r.outcome).toMatchObject({ status: 'error', code: 'denied' });
});

test('no credentials where the registry wants them: denied, not unsigned', async () => {
  const image = await signedImage('keyless/anon');
  const p = await withAuthProxy(undefined);
  const r = await verifyDigest(p.ports, p.policy, target(authProxy.host, 'keyless/anon', image), now());
  expect(r.outcome).toMatchObject({ status: 'error', code: 'denied' });
});

test('a registry that is down is an error with the reason', async () => {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const p = w.build({ registries: [{ host, endpoint: `http://${host}`, retries: 1 }], rules: w.rules(host) });
  const r = await verifyDigest(
    p.ports,
    p.policy,
    { registry: host, repository: 'keyless/x', digest: `sha256:${'1'.repeat(64)}` },
    now(),
  );
  expect(r.outcome).toMatchObject({
    status: 'error',
    code: 'unreachable',
    reason: expect.stringContaining('ECONNREFUSED'),
  });
  expect(p.client.stats.retries).toBeGreaterThanOrEqual(1);
});

test('429 and 503 are retried, honouring Retry-After; retries run out into an error', async () => {
  const repo = 'keyless/flaky';
  const image = await w.viaProxy.image(repo, 'v1');
  await signAndPush(w.viaProxy, w.sigstore, repo, image, 'cosign-sig', keyless);
  const p = w.build();
  w.proxy.fault({
    status: 429,
    count: 1,
    retryAfter: '0',
    match: /flaky\/manifests\/sha256-[0-9a-f]+\.sig$/,
  });
  w.proxy.fault({ status: 503, count: 1, match: /flaky\/manifests\/sha256-[0-9a-f]+\.sig$/ });
  const ok = await verifyDigest(p.ports, p.policy, target(w.proxy.host, repo, image), now());
  expect(ok.outcome.status).toBe('verified');
  expect(p.client.stats.retries).toBe(2);
  w.proxy.fault({ status: 503, count: 3, match: /flaky\/manifests\/sha256-[0-9a-f]+\.sig$/ });
  const bad = await verifyDigest(p.ports, p.policy, target(w.proxy.host, repo, image), now());
  expect(bad.outcome).toMatchObject({
    status: 'error',
    code: 'unreachable',
    reason: expect.stringContaining('503'),
  });
});

test('a Retry-After longer than the cap fails fast instead of stalling', async () => {
  const repo = 'keyless/slow';
  const image = await w.viaProxy.image(repo, 'v1');
  const p = w.build();
  w.proxy.fault({ status: 429, count: 1, retryAfter: '3600', match: /slow\/manifests\/sha256:/ });
  const r = await verifyDigest(p.ports, p.policy, target(w.proxy.host, repo, image), now());
  expect(r.outcome).toMatchObject({ status: 'error', reason: expect.stringContaining('retry after 3600 s') });
});

test('images from a registry outside the allow-list are flagged and never contacted', async () => {
  const p = w.build();
  const r = await verifyDigest(
    p.ports,
    p.policy,
    { registry: 'evil.example.com', repository: 'keyless/app', digest: `sha256:${'2'.repeat(64)}` },
    now(),
  );
  expect(r.outcome.status).toBe('unknown-registry');
  expect(p.client.stats.requests).toBe(0);
});

test('multi-arch: the running platform digest is verified through the signed index, and the result says so', async () => {
  const repo = 'keyless/multi';
  const amd = await w.direct.image(repo, 'amd64');
  const arm = await w.direct.image(repo, 'arm64');
  const index = await w.direct.index(repo, 'v1', [
    { pushed: amd, arch: 'amd64' },
    { pushed: arm, arch: 'arm64' },
  ]);
  await signAndPush(w.direct, w.sigstore, repo, index, 'cosign-sig', keyless);
  const p = w.provenance;
  const viaTag = await verifyDigest(p.ports, p.policy, target(w.registry.host, repo, amd, 'v1'), now());
  expect(viaTag).toMatchObject({
    outcome: { status: 'verified', via: { onIndex: index.digest } },
    parentIndex: index.digest,
    manifestKind: 'image',
  });
  const noTag = await verifyDigest(p.ports, p.policy, target(w.registry.host, repo, amd), now());
  expect(noTag.outcome.status).toBe('unsigned');
  const theIndex = await verifyDigest(p.ports, p.policy, target(w.registry.host, repo, index), now());
  expect(theIndex).toMatchObject({ outcome: { status: 'verified', via: { path: 'cosign-sig' } } });
});

test('an expired certificate without a trusted time, or with a tlog time outside its validity, is invalid', async () => {
  const old = await startMockSigstore({ caClock: new Date(Date.now() - 3 * 3600_000) });
  try {
    const rootPath = join(w.dir, 'old-root.json');
    await writeFile(rootPath, JSON.stringify(old.trustedRoot));
    const p = w.build({ trustedRoot: rootPath });
    const repo = 'keyless/expired';
    const a = await w.direct.image(repo, 'a');
    await signAndPush(w.direct, old, repo, a, 'referrers-tag', { ...keyless, witnesses: { tlog: false } });
    const ra = await verifyDigest(p.ports, p.policy, target(w.registry.host, repo, a), now());
    expect(ra.outcome).toMatchObject({
      status: 'invalid',
      reason: expect.stringContaining('without a trusted time'),
    });
    const b = await w.direct.image(repo, 'b');
    await signAndPush(w.direct, old, repo, b, 'referrers-tag', keyless);
    const rb = await verifyDigest(p.ports, p.policy, target(w.registry.host, repo, b), now());
    expect(rb.outcome).toMatchObject({
      status: 'invalid',
      reason: expect.stringContaining('CERTIFICATE_ERROR'),
    });
  } finally {
    await old.close();
  }
});

test('with a custom trusted root, verification uses no network beyond the loopback registry', async () => {
  const image = await signedImage('keyless/offline');
  const refused: string[] = [];
  const original = net.Socket.prototype.connect;
  const loopback = new Set(['127.0.0.1', 'localhost', '::1']);
  // biome-ignore lint/suspicious/noExplicitAny: patching Node's overloaded connect signature
  net.Socket.prototype.connect = function (this: net.Socket, ...args: any[]) {
    // net.connect passes its normalised [options, callback] pair as the first argument.
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    const o =
      typeof first === 'object'
        ? first
        : { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
    const host = o.host ?? 'localhost';
    if (o.path === undefined && !loopback.has(host)) {
      refused.push(host);
      process.nextTick(() => this.destroy(new Error(`network guard: ${host} refused`)));
      return this;
    }
    return original.apply(this, args as never);
  } as typeof original;
  try {
    // The guard works: anything off loopback fails.
    await expect(fetch('http://192.0.2.10/')).rejects.toThrow();
    expect(refused).toEqual(['192.0.2.10']);
    const p = w.build();
    const r = await verifyDigest(p.ports, p.policy, target(w.registry.host, 'keyless/offline', image), now());
    expect(r.outcome.status).toBe('verified');
    expect(refused).toEqual(['192.0.2.10']);
  } finally {
    net.Socket.prototype.connect = original;
  }
});
