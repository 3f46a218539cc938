import { PackageURL } from 'packageurl-js';
import { ecosystemKey } from './versions.ts';

/**
 * A package as scope compares it: ecosystem key plus the name normalised the way that ecosystem does.
 * Qualifiers (arch, distro, repository_url…) and subpaths never change identity.
 */
export type PackageIdentity = {
  /** OSV-style ecosystem key: npm, pypi, maven, go, debian, ubuntu, alpine, crates.io, rubygems, nuget, packagist… */
  ecosystem: string;
  name: string;
  /** Other names the same component answers to (a Debian binary package's source package). */
  aliases?: readonly string[];
};

const PURL_TYPE_TO_ECOSYSTEM: Record<string, string> = {
  npm: 'npm',
  pypi: 'pypi',
  maven: 'maven',
  golang: 'go',
  cargo: 'crates.io',
  gem: 'rubygems',
  nuget: 'nuget',
  composer: 'packagist',
  hex: 'hex',
  pub: 'pub',
  swift: 'swifturl',
};

/** `ecosystem/name`, the key advisories and components are indexed by. */
export function identityKey(ecosystem: string, name: string): string {
  return `${ecosystem}/${name}`;
}

/** PEP 503: runs of `-`, `_`, `.` become one `-`, lowercased (`Typing_Extensions` = `typing-extensions`). */
export function pep503(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/** Normalises a package name as found in an OSV record for the given ecosystem. */
export function normaliseName(ecosystem: string, name: string): string {
  const key = ecosystemKey(ecosystem);
  const n = name.trim();
  switch (key) {
    case 'pypi':
      return pep503(n);
    case 'npm':
      // `%40scope/name` as some tools write it is the same package as `@scope/name`.
      return n.replace(/^%40/i, '@');
    case 'debian':
    case 'ubuntu':
    case 'alpine':
      return n.toLowerCase();
    case 'crates.io':
    case 'nuget':
    case 'packagist':
      return n.toLowerCase();
    default:
      return n;
  }
}

export type ParsedPurl = {
  identity: PackageIdentity;
  version?: string;
  purl: string;
  /** The `distro` qualifier of an OS package (`debian-12`, `bookworm`, `alpine-3.18.4`): its release. */
  distro?: string;
};

/**
 * Parses a purl into its identity and version; undefined with a reason when it is not a valid purl or its
 * type is one scope does not match (e.g. `pkg:generic`).
 */
export function parsePurl(input: string): ParsedPurl | { error: string } {
  let p: PackageURL;
  try {
    p = PackageURL.fromString(input.trim());
  } catch (err) {
    return { error: `not a valid purl: ${(err as Error).message}` };
  }
  const type = p.type.toLowerCase();
  const ns = p.namespace ?? undefined;
  const version = p.version ?? undefined;
  let identity: PackageIdentity | undefined;
  let distro: string | undefined;
  if (type === 'npm') {
    const scope = ns ? ns.replace(/^%40/i, '@') : undefined;
    const full = scope ? `${scope.startsWith('@') ? scope : `@${scope}`}/${p.name}` : p.name;
    identity = { ecosystem: 'npm', name: normaliseName('npm', full) };
  } else if (type === 'maven') {
    if (!ns) return { error: 'a maven purl needs a namespace (groupId)' };
    identity = { ecosystem: 'maven', name: `${ns}:${p.name}` };
  } else if (type === 'golang') {
    identity = { ecosystem: 'go', name: ns ? `${ns}/${p.name}` : p.name };
  } else if (type === 'deb' || type === 'apk' || type === 'rpm') {
    const vendor = (ns ?? '').toLowerCase();
    const eco =
      type === 'apk' ? 'alpine' : vendor === 'ubuntu' ? 'ubuntu' : vendor === 'debian' ? 'debian' : vendor;
    if (!eco) return { error: `a ${type} purl needs a namespace (the distribution)` };
    const upstream = p.qualifiers?.upstream;
    const source = upstream ? upstream.split('@')[0]?.trim().toLowerCase() : undefined;
    const name = p.name.toLowerCase();
    distro = p.qualifiers?.distro?.trim().slice(0, 64) || undefined;
    identity = {
      ecosystem: eco,
      name,
      ...(source && source !== name ? { aliases: [source] } : {}),
    };
  } else if (PURL_TYPE_TO_ECOSYSTEM[type]) {
    const eco = PURL_TYPE_TO_ECOSYSTEM[type] as string;
    const name = ns ? `${ns}/${p.name}` : p.name;
    identity = { ecosystem: eco, name: normaliseName(eco, name) };
  } else {
    return { error: `purl type "${type}" is not matched against advisories` };
  }
  return {
    identity,
    ...(version ? { version } : {}),
    purl: canonicalPurl(p),
    ...(distro ? { distro } : {}),
  };
}

/** The purl without qualifiers and subpath, in canonical spelling (for display and de-duplication). */
function canonicalPurl(p: PackageURL): string {
  return new PackageURL(p.type, p.namespace, p.name, p.version, undefined, undefined).toString();
}
