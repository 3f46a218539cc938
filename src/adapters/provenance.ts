import { createHash } from 'node:crypto';
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
import { rootFingerprint, shippedPublicGoodRoot, trustedRootFromFile } from './sigstore/trust.ts';
import { SigstoreVerifier } from './sigstore/verifier.ts';

/** Where the trusted root in use came from, and its fingerprint (`rootFingerprint`). */
export type TrustRootInfo = {
  source: 'shipped' | 'tuf' | 'file' | 'given';
  fingerprint: string;
  /** `file`: the trusted_root.json path. */
  path?: string;
  /** `tuf`: the repository and when the root was fetched from it. */
  mirror?: string;
  refreshedAt?: string;
};

/**
 * One consistent view for a verification: the verifier built on one trusted root, the ports over it, and the
 * policy whose version covers both the rules and that root's fingerprint (so cached results and fan-out
 * chunks made under another root are never taken for current ones).
 */
export type ProvenanceView = {
  policy: ProvenancePolicy;
  ports: ProvenancePorts;
  verifier: SigstoreVerifier;
  trust: 'custom' | 'public-good';
  root: TrustRootInfo;
};

/**
 * Everything `/scope verify` needs, built once per process from the configuration and reused. The getters read
 * the current view; `useRoot` swaps it atomically for verifications that start afterwards (a TUF refresh).
 */
export type Provenance = Readonly<ProvenanceView> & {
  client: RegistryClient;
  current: () => ProvenanceView;
  /** Builds a verifier on `root` and makes it current; throws (and keeps the old view) when it cannot. */
  useRoot: (root: TrustedRoot, info: Omit<TrustRootInfo, 'fingerprint'>) => ProvenanceView;
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
  const source: Omit<TrustRootInfo, 'fingerprint'> = overrides.trustedRoot
    ? { source: 'given' }
    : cfg.trustedRoot
      ? { source: 'file', path: cfg.trustedRoot }
      : { source: 'shipped' };
  const trust = cfg.trustedRoot || overrides.trustedRoot ? 'custom' : 'public-good';
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
  const referrersUnsupported = new Set<string>();
  const viewOn = (r: TrustedRoot, info: Omit<TrustRootInfo, 'fingerprint'>): ProvenanceView => {
    let verifier: SigstoreVerifier;
    try {
      verifier = new SigstoreVerifier(
        r,
        policy.rules.flatMap((x) => x.keys),
      );
    } catch (err) {
      throw new ScopeError(
        'CONFIG_INVALID',
        `provenance: bad trust material or key: ${(err as Error).message}`,
      );
    }
    const fingerprint = rootFingerprint(r);
    return {
      policy: { ...policy, version: versionWithRoot(policy.version, fingerprint) },
      ports: registryPorts(client, verifier, referrersUnsupported),
      verifier,
      trust,
      root: { ...info, fingerprint },
    };
  };
  let view = viewOn(root, source);
  return {
    client,
    current: () => view,
    useRoot: (r, info) => {
      view = viewOn(r, info);
      return view;
    },
    get policy() {
      return view.policy;
    },
    get ports() {
      return view.ports;
    },
    get verifier() {
      return view.verifier;
    },
    get trust() {
      return view.trust;
    },
    get root() {
      return view.root;
    },
  };
}

/** The policy version results are cached and chunked under: the rules' version and the root's fingerprint. */
export function versionWithRoot(policyVersion: string, rootFingerprint: string): string {
  return createHash('sha256').update(`${policyVersion}\n${rootFingerprint}`).digest('hex').slice(0, 16);
}

/** The provenance ports over a registry client and a verifier. */
export function registryPorts(
  client: RegistryClient,
  verifier: SigstoreVerifier,
  referrersUnsupported = new Set<string>(),
): ProvenancePorts {
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
