import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildProvenance, type Provenance } from '../../src/adapters/provenance.ts';
import { provenanceSchema } from '../../src/domain/provenance/policy-config.ts';
import type { VerifyTarget } from '../../src/domain/provenance/verify-digest.ts';
import { OciPusher, type Pushed } from '../../src/testing/oci-push.ts';
import { type OciRegistry, startOciRegistry } from '../../src/testing/oci-registry.ts';
import { type RegistryProxy, startRegistryProxy } from '../../src/testing/registry-proxy.ts';
import {
  generateCosignKeyPair,
  type KeyPair,
  type MockSigstore,
  startMockSigstore,
} from '../../src/testing/sigstore-mock.ts';

export const ID = 'https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main';
export const ISS = 'https://token.actions.githubusercontent.com';

/** A real registry, a referrers-capable stand-in in front of it, a loopback Sigstore and a policy over both. */
export type World = {
  registry: OciRegistry;
  proxy: RegistryProxy;
  sigstore: MockSigstore;
  release: KeyPair;
  other: KeyPair;
  dir: string;
  trustedRootPath: string;
  direct: OciPusher;
  viaProxy: OciPusher;
  provenance: Provenance;
  /** Builds a provenance with this `provenance:` config (registries and rules filled in by default). */
  build: (overrides?: Record<string, unknown>) => Provenance;
  rules: (host: string) => unknown[];
  close: () => Promise<void>;
};

export async function startWorld(): Promise<World> {
  const registry = await startOciRegistry();
  const proxy = await startRegistryProxy(registry.url, { referrers: true });
  const sigstore = await startMockSigstore();
  const release = generateCosignKeyPair();
  const other = generateCosignKeyPair();
  const dir = await mkdtemp(join(tmpdir(), 'scope-prov-'));
  const trustedRootPath = join(dir, 'trusted_root.json');
  await writeFile(trustedRootPath, JSON.stringify(sigstore.trustedRoot));
  await writeFile(join(dir, 'release.pub'), release.publicPem);
  const rules = (host: string) => [
    { name: `keyless@${host}`, match: [`${host}/keyless/**`], keyless: [{ identity: ID, issuer: ISS }] },
    {
      name: `keyed@${host}`,
      match: [`${host}/keyed/**`],
      keys: [{ name: 'release', path: join(dir, 'release.pub') }],
      requireTlog: false,
    },
    {
      name: `regexp@${host}`,
      match: [`${host}/regexp/**`],
      keyless: [
        {
          identityRegexp:
            'https://github\\.com/acme/[a-z]+/\\.github/workflows/release\\.yml@refs/heads/main',
          issuer: ISS,
        },
      ],
    },
    {
      name: `github@${host}`,
      match: [`${host}/github/**`],
      keyless: [{ identity: ID, issuer: ISS, github: { repository: 'acme/app' } }],
    },
    {
      name: `tsa@${host}`,
      match: [`${host}/tsa/**`],
      keyless: [{ identity: ID, issuer: ISS }],
      requireSignedTimestamp: true,
    },
    {
      name: `sigrepo@${host}`,
      match: [`${host}/sigrepo/**`],
      keyless: [{ identity: ID, issuer: ISS }],
      signatureRepository: `${host}/signatures/store`,
    },
  ];
  const build = (overrides: Record<string, unknown> = {}) =>
    buildProvenance(
      provenanceSchema.parse({
        registries: [
          { host: registry.host, endpoint: registry.url, retries: 0 },
          { host: proxy.host, endpoint: proxy.url, retries: 2 },
        ],
        trustedRoot: trustedRootPath,
        dockerConfig: join(dir, 'no-docker-config.json'),
        rules: [...rules(registry.host), ...rules(proxy.host)],
        ...overrides,
      }),
      {},
    );
  return {
    registry,
    proxy,
    sigstore,
    release,
    other,
    dir,
    trustedRootPath,
    direct: new OciPusher(registry.url),
    viaProxy: new OciPusher(proxy.url),
    provenance: build(),
    build,
    rules,
    close: async () => {
      await proxy.close();
      await sigstore.close();
      await registry.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function target(host: string, repository: string, image: Pushed, tag?: string): VerifyTarget {
  return { registry: host, repository, digest: image.digest, ...(tag ? { tag } : {}) };
}
