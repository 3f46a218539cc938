import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import type { ProvenancePolicy } from '../domain/provenance/policy.ts';
import { type ProvenanceConfig, policyFromConfig } from '../domain/provenance/policy-config.ts';
import type { ProvenancePorts } from '../domain/provenance/ports.ts';
import { ScopeError } from '../errors.ts';
import {
  type CredentialSource,
  dockerConfigCredentials,
  firstCredential,
  normaliseHost,
} from './oci/auth.ts';
import { discoverSignatures } from './oci/discover.ts';
import { isIndexType } from './oci/media-types.ts';
import { RegistryClient, RegistryError } from './oci/registry-client.ts';
import { shippedPublicGoodRoot, trustedRootFromFile } from './sigstore/trust.ts';
import { SigstoreVerifier } from './sigstore/verifier.ts';

/** Everything `/scope verify` needs, built once per process from the configuration and reused. */
export type Provenance = {
  policy: ProvenancePolicy;
  ports: ProvenancePorts;
  client: RegistryClient;
  verifier: SigstoreVerifier;
  trust: 'custom' | 'public-good';
};

/**
 * Builds the registry client, the verifier (trust material loaded once, offline) and the policy; throws
 * CONFIG_INVALID for unreadable keys or roots so a bad setting stops the process at start.
 */
export function buildProvenance(
  cfg: ProvenanceConfig,
  env: NodeJS.ProcessEnv = process.env,
  overrides: { trustedRoot?: TrustedRoot; credentials?: CredentialSource } = {},
): Provenance {
  const keyPem = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new ScopeError(
        'CONFIG_INVALID',
        `provenance: cannot read key ${path}: ${(err as Error).message}`,
      );
    }
  };
  const policy = policyFromConfig(cfg, keyPem);
  const root =
    overrides.trustedRoot ??
    (cfg.trustedRoot ? trustedRootFromFile(cfg.trustedRoot) : shippedPublicGoodRoot());
  let verifier: SigstoreVerifier;
  try {
    verifier = new SigstoreVerifier(
      root,
      policy.rules.flatMap((r) => r.keys),
    );
  } catch (err) {
    throw new ScopeError(
      'CONFIG_INVALID',
      `provenance: bad trust material or key: ${(err as Error).message}`,
    );
  }
  const configured: CredentialSource = async (host) => {
    const r = cfg.registries.find((x) => normaliseHost(x.host) === normaliseHost(host));
    if (!r?.username || !r.passwordEnv) return undefined;
    const secret = env[r.passwordEnv];
    return secret ? { username: r.username, secret } : undefined;
  };
  const dockerConfig =
    cfg.dockerConfig ?? join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  const client = new RegistryClient({
    registries: cfg.registries.map((r) => ({
      host: r.host,
      ...(r.endpoint ? { endpoint: r.endpoint } : {}),
      ...(r.extraHosts ? { extraHosts: r.extraHosts } : {}),
      concurrency: r.concurrency,
      timeoutMs: r.timeoutMs,
      retries: r.retries,
    })),
    credentials: overrides.credentials ?? firstCredential(configured, dockerConfigCredentials(dockerConfig)),
  });
  return {
    policy,
    client,
    verifier,
    trust: cfg.trustedRoot || overrides.trustedRoot ? 'custom' : 'public-good',
    ports: registryPorts(client, verifier),
  };
}

/** The provenance ports over a registry client and a verifier. */
export function registryPorts(client: RegistryClient, verifier: SigstoreVerifier): ProvenancePorts {
  const referrersUnsupported = new Set<string>();
  return {
    manifest: async (repo, reference, signal) => {
      const m = await client.manifest(repo, reference, signal);
      const kind = isIndexType(m.mediaType) || Array.isArray(m.json.manifests) ? 'index' : 'image';
      return {
        digest: m.digest,
        kind,
        bytes: m.bytes,
        children: (m.json.manifests ?? []).map((d) => d.digest),
      };
    },
    discover: (sigRepo, digest, signal, onIndex, paths) =>
      discoverSignatures(client, sigRepo, digest, {
        ...(signal ? { signal } : {}),
        ...(onIndex ? { onIndex } : {}),
        ...(paths ? { paths } : {}),
        referrersUnsupported,
      }),
    check: (evidence, subject, rule) => verifier.check(evidence, subject, rule),
    classify: (err) => (err instanceof RegistryError ? { code: err.code, message: err.message } : undefined),
  };
}
