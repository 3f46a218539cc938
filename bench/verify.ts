/**
 * `/scope verify` benchmark (`npm run bench:verify`, also the last step of `npm run bench`): N distinct signed
 * digests (default 1,000) in a real docker-registry on loopback, signed in a mix of storage forms (cosign .sig,
 * referrers tag fallback, cosign .att) by keyless signers of a loopback Sigstore (mock Fulcio/Rekor, real
 * crypto) and by a cosign key pair; a MemoryInventory where each digest runs in one pod; a real redis-server
 * for the result cache. Measures verifyScope('all') cold (empty cache) and cached, and splits the cold time
 * into crypto (every found signature re-checked with no network) and the rest (registry round trips).
 * Knobs: SCOPE_BENCH_VERIFY_DIGESTS [1000]  SCOPE_BENCH_VERIFY_CONCURRENCY [32 digests at once]
 * SCOPE_BENCH_VERIFY_REGISTRY_CONCURRENCY [16 requests at once]  SCOPE_BENCH_VERIFY_OUT [bench/results/verify.json]
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import pLimit from 'p-limit';
import { buildProvenance } from '../src/adapters/provenance.ts';
import type { PodRecord } from '../src/domain/inventory/inventory.ts';
import { provenanceSchema } from '../src/domain/provenance/policy-config.ts';
import { parseVerifyScope } from '../src/domain/provenance/scope.ts';
import { verifyScope } from '../src/jobs/provenance/verify-scope.ts';
import { MemoryInventory } from '../src/store/inventory/memory-inventory.ts';
import { VerificationCache } from '../src/store/provenance/verification-cache.ts';
import { OciPusher, type Pushed } from '../src/testing/oci-push.ts';
import { startOciRegistry } from '../src/testing/oci-registry.ts';
import { type StorageForm, signAndPush } from '../src/testing/provenance-fixtures.ts';
import { startRedisServer } from '../src/testing/redis-server.ts';
import { generateCosignKeyPair, startMockSigstore } from '../src/testing/sigstore-mock.ts';

const N = Number(process.env.SCOPE_BENCH_VERIFY_DIGESTS ?? 1000);
const CONCURRENCY = Number(process.env.SCOPE_BENCH_VERIFY_CONCURRENCY ?? 32);
const REG_CONCURRENCY = Number(process.env.SCOPE_BENCH_VERIFY_REGISTRY_CONCURRENCY ?? 16);
const OUT = process.env.SCOPE_BENCH_VERIFY_OUT ?? 'bench/results/verify.json';
const ID = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
const ISS = 'https://token.actions.githubusercontent.com';

/** user + system CPU of a process so far, from /proc (clock ticks of 10 ms). */
function registryCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

async function main(): Promise<void> {
  const registry = await startOciRegistry();
  const redisServer = await startRedisServer();
  const sigstore = await startMockSigstore();
  const dir = await mkdtemp(join(tmpdir(), 'scope-bench-verify-'));
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  try {
    const key = generateCosignKeyPair();
    const rootPath = join(dir, 'trusted_root.json');
    await writeFile(rootPath, JSON.stringify(sigstore.trustedRoot));
    const pusher = new OciPusher(registry.url);
    const forms: StorageForm[] = ['cosign-sig', 'cosign-sig', 'referrers-tag', 'cosign-att'];
    const t0 = performance.now();
    const pods: PodRecord[] = [];
    const limit = pLimit(8);
    let pushed = 0;
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        limit(async () => {
          const repo = `apps/svc-${String(i % 50).padStart(2, '0')}`;
          const image: Pushed = await pusher.image(repo, `v${i}`);
          const form = forms[i % forms.length] as StorageForm;
          const signer = i % 5 === 4 ? { key } : { keyless: { identity: ID, issuer: ISS } };
          await signAndPush(pusher, sigstore, repo, image, form, { signer });
          pods.push({
            cluster: `c${i % 10}`,
            environment: 'prod',
            namespace: 'apps',
            name: `p${i}`,
            uid: `u${i}`,
            workload: { kind: 'Deployment', name: `svc-${i}` },
            containers: [
              {
                name: 'app',
                type: 'container',
                image: `${registry.host}/${repo}:v${i}`,
                repository: `${registry.host}/${repo}`,
                tag: `v${i}`,
                digest: image.digest,
              },
            ],
          });
          if (++pushed % 200 === 0) process.stderr.write(`setup: ${pushed}/${N} images signed and pushed\n`);
        }),
      ),
    );
    const setupSeconds = (performance.now() - t0) / 1000;
    const inv = new MemoryInventory(
      pods,
      Array.from({ length: 10 }, (_, c) => ({
        cluster: `c${c}`,
        environment: 'prod',
        ok: true,
        pods: N / 10,
        startedAt: '',
        finishedAt: '',
      })),
    );
    await writeFile(join(dir, 'release.pub'), key.publicPem);
    const p = buildProvenance(
      provenanceSchema.parse({
        registries: [{ host: registry.host, endpoint: registry.url, concurrency: REG_CONCURRENCY }],
        trustedRoot: rootPath,
        dockerConfig: join(dir, 'none.json'),
        rules: [
          {
            name: 'apps',
            match: [`${registry.host}/apps/**`],
            keyless: [{ identity: ID, issuer: ISS }],
            keys: [{ name: 'release', path: join(dir, 'release.pub') }],
            requireTlog: false,
          },
        ],
      }),
      {},
    );
    const cache = new VerificationCache(redis, '{bench}', 3600);
    const ports = { policy: p.policy, ports: p.ports, trust: p.trust, cache, concurrency: CONCURRENCY };
    // Capture what discovery found, to time the crypto alone afterwards.
    const found: Array<Parameters<typeof p.ports.check>> = [];
    const discover = p.ports.discover;
    p.ports.discover = async (...args) => {
      const d = await discover(...args);
      for (const f of d.found)
        found.push([f, { kind: 'image', digest: args[1] }, p.policy.rules[0] as never]);
      return d;
    };
    const cpu0 = process.cpuUsage();
    const reg0 = registryCpuMs(registry.pid());
    const c0 = performance.now();
    const cold = await verifyScope(inv, ports, parseVerifyScope('all'), new Date());
    const coldMs = performance.now() - c0;
    const coldCpu = process.cpuUsage(cpu0);
    const coldRegistryCpuMs = registryCpuMs(registry.pid()) - reg0;
    const stats = { ...p.client.stats };
    const kCpu = process.cpuUsage();
    const k0 = performance.now();
    for (const args of found) p.ports.check(...args);
    const cryptoMs = performance.now() - k0;
    const cryptoCpu = process.cpuUsage(kCpu);
    const cpu1 = process.cpuUsage();
    const w0 = performance.now();
    const warm = await verifyScope(inv, ports, parseVerifyScope('all'), new Date());
    const warmMs = performance.now() - w0;
    const warmCpu = process.cpuUsage(cpu1);
    const result = {
      digests: N,
      setupSeconds: Math.round(setupSeconds * 10) / 10,
      cold: {
        ms: Math.round(coldMs),
        scopeCpuMs: Math.round((coldCpu.user + coldCpu.system) / 1000),
        registryCpuMs: Math.round(coldRegistryCpuMs),
        counts: cold.counts,
        targetMs: 10_000,
        met: coldMs <= 10_000,
      },
      cached: {
        ms: Math.round(warmMs),
        scopeCpuMs: Math.round((warmCpu.user + warmCpu.system) / 1000),
        cachedHits: warm.cached,
        targetMs: 500,
        met: warmMs <= 500,
      },
      split: {
        cryptoMs: Math.round(cryptoMs),
        cryptoCpuMs: Math.round((cryptoCpu.user + cryptoCpu.system) / 1000),
        cryptoPerSignatureMs: Math.round((cryptoMs / Math.max(1, found.length)) * 100) / 100,
        registryAndRestMs: Math.round(coldMs - cryptoMs),
        registryRequests: stats.requests,
        registryRetries: stats.retries,
        registryBytes: stats.bytes,
        requestsPerDigest: Math.round((stats.requests / N) * 10) / 10,
      },
      config: { concurrency: CONCURRENCY, registryConcurrency: REG_CONCURRENCY },
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model,
        loadavg: loadavg().map((x) => Math.round(x * 10) / 10),
        node: process.version,
      },
      at: new Date().toISOString(),
    };
    console.log(
      `verify cold   ${result.cold.ms} ms for ${N} digests (target ≤ 10000) ${result.cold.met ? 'MET' : 'NOT MET'}; CPU scope ${result.cold.scopeCpuMs} ms, registry ${result.cold.registryCpuMs} ms`,
    );
    console.log(
      `verify cached ${result.cached.ms} ms (${warm.cached} hits; target ≤ 500) ${result.cached.met ? 'MET' : 'NOT MET'}`,
    );
    console.log(
      `  crypto ${result.split.cryptoMs} ms wall, ${result.split.cryptoCpuMs} ms CPU (${result.split.cryptoPerSignatureMs} ms per signature, ${found.length} signatures); registry and the rest ${result.split.registryAndRestMs} ms, ${stats.requests} requests (${result.split.requestsPerDigest} per digest)`,
    );
    console.log(
      `  outcomes ${JSON.stringify(cold.counts)}; setup ${result.setupSeconds} s; load ${result.machine.loadavg.join(' ')}`,
    );
    await mkdir(dirname(OUT), { recursive: true });
    await writeFile(OUT, `${JSON.stringify(result, null, 2)}\n`);
    if (cold.counts.verified !== N)
      throw new Error(`expected ${N} verified, got ${JSON.stringify(cold.counts)}`);
  } finally {
    await redis.quit();
    await sigstore.close();
    await registry.stop();
    await redisServer.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
