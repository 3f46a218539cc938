import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProvenance } from '../src/adapters/provenance.ts';
import type { PodRecord } from '../src/domain/inventory/inventory.ts';
import { provenanceSchema } from '../src/domain/provenance/policy-config.ts';
import { parseVerifyScope } from '../src/domain/provenance/scope.ts';
import { verifyScope } from '../src/jobs/provenance/verify-scope.ts';
import { presentVerify } from '../src/render/provenance/present-verify.ts';
import { toTerminal } from '../src/render/terminal.ts';
import { MemoryInventory } from '../src/store/inventory/memory-inventory.ts';
import { OciPusher, type Pushed } from '../src/testing/oci-push.ts';
import { startOciRegistry } from '../src/testing/oci-registry.ts';
import { type SignSpec, type StorageForm, signAndPush } from '../src/testing/provenance-fixtures.ts';
import { generateCosignKeyPair, startMockSigstore } from '../src/testing/sigstore-mock.ts';

const RELEASE = 'https://github.com/acme/payments/.github/workflows/release.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';

/**
 * The provenance story (`./run demo --verify`): a real docker-registry on loopback and a loopback Sigstore;
 * payments-api is signed by its release workflow (Sigstore bundle in the referrers tag fallback), the vendor
 * agent by the vendor's key (cosign .sig), the compromised base image by someone else's workflow, a cron image's
 * attestation was modified after signing, and one sidecar is not signed at all. `/scope verify env:prod`.
 */
export async function runVerifyDemo(say: (s: string) => void, color = false): Promise<number> {
  say('scope demo — signature verification: starting docker-registry and a loopback Sigstore…');
  const registry = await startOciRegistry().catch((err: Error) => {
    say(`The verification demo needs docker-registry: ${err.message}`);
    return undefined;
  });
  if (!registry) return 1;
  const sigstore = await startMockSigstore();
  const dir = await mkdtemp(join(tmpdir(), 'scope-demo-verify-'));
  try {
    const vendorKey = generateCosignKeyPair();
    await writeFile(join(dir, 'vendor.pub'), vendorKey.publicPem);
    await writeFile(join(dir, 'trusted_root.json'), JSON.stringify(sigstore.trustedRoot));
    const push = new OciPusher(registry.url);
    const host = registry.host;
    const keyless = (identity: string): SignSpec => ({ signer: { keyless: { identity, issuer: ISSUER } } });
    const images: Array<{
      cluster: string;
      workload: string;
      repo: string;
      form?: StorageForm;
      spec?: SignSpec;
    }> = [
      {
        cluster: 'prod-eu',
        workload: 'payments-api',
        repo: 'payments/api',
        form: 'referrers-tag',
        spec: keyless(RELEASE),
      },
      {
        cluster: 'prod-us',
        workload: 'vendor-agent',
        repo: 'vendor/agent',
        form: 'cosign-sig',
        spec: { signer: { key: vendorKey } },
      },
      {
        cluster: 'prod-eu',
        workload: 'base-runtime',
        repo: 'payments/runtime',
        form: 'cosign-sig',
        spec: keyless('https://github.com/attacker/fork/.github/workflows/release.yml@refs/heads/main'),
      },
      {
        cluster: 'prod-us',
        workload: 'report-cron',
        repo: 'payments/cron',
        form: 'cosign-att',
        spec: { ...keyless(RELEASE), tamper: true },
      },
      { cluster: 'prod-eu', workload: 'log-shipper', repo: 'payments/shipper' },
    ];
    const pods: PodRecord[] = [];
    for (const [i, img] of images.entries()) {
      const pushed: Pushed = await push.image(img.repo, '1.0');
      if (img.form && img.spec) await signAndPush(push, sigstore, img.repo, pushed, img.form, img.spec);
      pods.push({
        cluster: img.cluster,
        environment: 'prod',
        namespace: 'payments',
        name: `${img.workload}-0`,
        uid: `demo-${i}`,
        workload: { kind: 'Deployment', name: img.workload },
        containers: [
          {
            name: 'app',
            type: 'container',
            image: `${host}/${img.repo}:1.0`,
            repository: `${host}/${img.repo}`,
            tag: '1.0',
            digest: pushed.digest,
          },
        ],
      });
    }
    const p = buildProvenance(
      provenanceSchema.parse({
        registries: [{ host, endpoint: registry.url }],
        trustedRoot: join(dir, 'trusted_root.json'),
        dockerConfig: join(dir, 'none.json'),
        rules: [
          {
            name: 'vendor',
            match: [`${host}/vendor/*`],
            keys: [{ name: 'vendor-2026', path: join(dir, 'vendor.pub') }],
            requireTlog: false,
          },
          {
            name: 'payments',
            match: [`${host}/payments/*`],
            keyless: [{ identity: RELEASE, issuer: ISSUER }],
          },
        ],
      }),
      {},
    );
    const now = new Date();
    const inv = new MemoryInventory(
      pods,
      ['prod-eu', 'prod-us'].map((c) => ({
        cluster: c,
        environment: 'prod',
        ok: true,
        pods: 3,
        startedAt: now.toISOString(),
        finishedAt: now.toISOString(),
      })),
    );
    say('\nscope> /scope verify env:prod\n');
    const started = performance.now();
    const report = await verifyScope(
      inv,
      { policy: p.policy, ports: p.ports, trust: p.trust },
      parseVerifyScope('env:prod'),
      now,
    );
    const message = presentVerify(report, {
      commandText: '/scope verify env:prod',
      elapsedMs: performance.now() - started,
      now,
    });
    say(toTerminal(message, { color }));
    return 0;
  } finally {
    await sigstore.close();
    await registry.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
