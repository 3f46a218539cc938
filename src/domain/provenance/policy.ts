import { createHash } from 'node:crypto';

/** Claims of a GitHub Actions keyless certificate a policy may pin (compared exactly). */
export type GithubClaims = {
  repository?: string;
  ref?: string;
  workflow?: string;
  trigger?: string;
  sha?: string;
};

/** A keyless signer scope trusts: certificate SAN (exact, or an anchored regexp when asked) and OIDC issuer. */
export type KeylessIdentity = {
  identity?: string;
  identityRegexp?: string;
  issuer: string;
  github?: GithubClaims;
};

/** A public key scope trusts, by name (the name is what results show). */
export type TrustedKey = { name: string; pem: string };

/** Who may sign the images of the repositories a rule matches, and what evidence is required. */
export type TrustRule = {
  name: string;
  /** Globs over `registry/repository`: `*` stays within a path segment, `**` crosses them. */
  match: string[];
  keys: TrustedKey[];
  keyless: KeylessIdentity[];
  requireTlog: boolean;
  requireSignedTimestamp: boolean;
  /** Where signatures live when not next to the image (cosign's COSIGN_REPOSITORY), `registry/repository`. */
  signatureRepository?: string;
};

/** The whole signer-identity policy, versioned by its content so cached results die with it. */
export type ProvenancePolicy = { rules: TrustRule[]; allowedRegistries: string[]; version: string };

export function buildPolicy(rules: TrustRule[], allowedRegistries: string[]): ProvenancePolicy {
  const version = createHash('sha256')
    .update(JSON.stringify({ rules, allowedRegistries }))
    .digest('hex')
    .slice(0, 16);
  return { rules, allowedRegistries, version };
}

export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The first rule whose glob matches `registry/repository`; order in the configuration decides. */
export function ruleFor(policy: ProvenancePolicy, repository: string): TrustRule | undefined {
  return policy.rules.find((r) => r.match.some((g) => globToRegExp(g).test(repository)));
}

export function registryAllowed(policy: ProvenancePolicy, registry: string): boolean {
  return policy.allowedRegistries.includes(registry.toLowerCase());
}

/** An identity regexp always matches the whole SAN: `^(?:re)$`, so a prefix or suffix of it never passes. */
export function anchored(re: string): RegExp {
  return new RegExp(`^(?:${re})$`);
}

/** The signer facts identity matching needs, extracted from a verified certificate. */
export type CertificateSigner = { san: string | undefined; issuer: string | undefined; github: GithubClaims };

/**
 * Matches a verified certificate against the rule's keyless identities: SAN and issuer compared as exact
 * strings unless the identity is given as a regexp (then anchored); GitHub claims compared exactly.
 */
export function matchKeyless(
  signer: CertificateSigner,
  identities: readonly KeylessIdentity[],
): { ok: true; identity: KeylessIdentity } | { ok: false; reason: string } {
  if (identities.length === 0) return { ok: false, reason: 'the policy trusts no keyless identities here' };
  for (const id of identities) {
    if (signer.san === undefined || signer.issuer !== id.issuer) continue;
    const sanOk =
      id.identityRegexp !== undefined
        ? anchored(id.identityRegexp).test(signer.san)
        : signer.san === id.identity;
    if (!sanOk) continue;
    const claims = Object.entries(id.github ?? {}) as Array<[keyof GithubClaims, string]>;
    if (claims.every(([k, v]) => signer.github[k] === v)) return { ok: true, identity: id };
  }
  return {
    ok: false,
    reason: `signed by ${signer.san ?? '(no SAN)'} (issuer ${signer.issuer ?? 'none'}), not an identity this policy trusts`,
  };
}
