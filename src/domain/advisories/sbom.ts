import type { ParseProblem } from './model.ts';
import { type PackageIdentity, parsePurl } from './purl.ts';

/** A package found in an SBOM, identified by purl (when it has one) and carrying its hashes. */
export type Component = {
  name: string;
  version?: string;
  /** Canonical purl without qualifiers, when the SBOM gave a valid one. */
  purl?: string;
  identity?: PackageIdentity;
  /** The purl's `distro` qualifier (an OS package's release), compared with OSV ecosystems like `Debian:12`. */
  distro?: string;
  hashes: Array<{ algorithm: 'sha256' | 'sha512'; hex: string }>;
};

/** An SBOM reduced to what matching needs. */
export type Sbom = {
  format: 'cyclonedx' | 'spdx';
  specVersion: string;
  /** What the SBOM describes (CycloneDX metadata.component / SPDX document name). */
  subject?: string;
  components: Component[];
  problems: ParseProblem[];
};

const CDX_VERSIONS = new Set(['1.4', '1.5', '1.6']);
const MAX_COMPONENTS = 200_000;

/** Parses CycloneDX 1.4–1.6 JSON or SPDX 2.3 JSON; throws an Error saying why when the document is neither. */
export function parseSbom(doc: unknown, source: string): Sbom {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${source}: not a JSON object`);
  const d = doc as Record<string, unknown>;
  if (d.bomFormat === 'CycloneDX') return parseCycloneDx(d, source);
  if (typeof d.spdxVersion === 'string') return parseSpdx(d, source);
  throw new Error(`${source}: neither CycloneDX (bomFormat) nor SPDX (spdxVersion) JSON`);
}

function parseCycloneDx(d: Record<string, unknown>, source: string): Sbom {
  const specVersion = String(d.specVersion ?? '');
  if (!CDX_VERSIONS.has(specVersion)) {
    throw new Error(
      `${source}: CycloneDX specVersion "${specVersion.slice(0, 10)}" (scope reads 1.4, 1.5 and 1.6)`,
    );
  }
  const problems: ParseProblem[] = [];
  const components: Component[] = [];
  const walk = (list: unknown, path: string) => {
    if (list === undefined) return;
    if (!Array.isArray(list)) {
      problems.push({ source, record: path, why: 'components is not an array' });
      return;
    }
    list.forEach((c, i) => {
      const label = `${path}[${i}]`;
      if (!c || typeof c !== 'object') {
        problems.push({ source, record: label, why: 'not an object' });
        return;
      }
      const x = c as Record<string, unknown>;
      if (components.length >= MAX_COMPONENTS) return;
      const comp = component(
        {
          name: x.name,
          group: x.group,
          version: x.version,
          purl: x.purl,
          hashes: Array.isArray(x.hashes)
            ? (x.hashes as Array<{ alg?: unknown; content?: unknown }>).map((h) => [h?.alg, h?.content])
            : [],
        },
        source,
        label,
        problems,
      );
      if (comp) components.push(comp);
      walk(x.components, `${label}.components`);
    });
  };
  walk(d.components, 'components');
  const meta = (d.metadata as { component?: { name?: unknown; version?: unknown } } | undefined)?.component;
  const subject =
    typeof meta?.name === 'string'
      ? `${meta.name}${typeof meta.version === 'string' ? `@${meta.version}` : ''}`
      : undefined;
  return { format: 'cyclonedx', specVersion, ...(subject ? { subject } : {}), components, problems };
}

function parseSpdx(d: Record<string, unknown>, source: string): Sbom {
  const specVersion = String(d.spdxVersion);
  if (specVersion !== 'SPDX-2.3' && specVersion !== 'SPDX-2.2') {
    throw new Error(`${source}: spdxVersion "${specVersion.slice(0, 12)}" (scope reads SPDX-2.3 JSON)`);
  }
  const problems: ParseProblem[] = [];
  const components: Component[] = [];
  const pkgs = d.packages;
  if (pkgs !== undefined && !Array.isArray(pkgs)) throw new Error(`${source}: "packages" is not an array`);
  for (const [i, p] of ((pkgs as unknown[] | undefined) ?? []).entries()) {
    const label = `packages[${i}]`;
    if (!p || typeof p !== 'object') {
      problems.push({ source, record: label, why: 'not an object' });
      continue;
    }
    const x = p as Record<string, unknown>;
    const refs = Array.isArray(x.externalRefs) ? (x.externalRefs as Array<Record<string, unknown>>) : [];
    const purls = refs.filter((r) => r?.referenceType === 'purl' && typeof r.referenceLocator === 'string');
    const comp = component(
      {
        name: x.name,
        version: x.versionInfo,
        purl: purls[0]?.referenceLocator,
        hashes: Array.isArray(x.checksums)
          ? (x.checksums as Array<{ algorithm?: unknown; checksumValue?: unknown }>).map((h) => [
              h?.algorithm,
              h?.checksumValue,
            ])
          : [],
      },
      source,
      label,
      problems,
    );
    if (comp && components.length < MAX_COMPONENTS) components.push(comp);
  }
  const subject = typeof d.name === 'string' ? d.name : undefined;
  return {
    format: 'spdx',
    specVersion: specVersion.replace('SPDX-', ''),
    ...(subject ? { subject } : {}),
    components,
    problems,
  };
}

function component(
  raw: { name: unknown; group?: unknown; version: unknown; purl: unknown; hashes: unknown[][] },
  source: string,
  label: string,
  problems: ParseProblem[],
): Component | undefined {
  if (typeof raw.name !== 'string' || !raw.name.trim()) {
    problems.push({ source, record: label, why: 'component without a name' });
    return undefined;
  }
  const out: Component = { name: raw.name.trim(), hashes: [] };
  if (typeof raw.version === 'string' && raw.version.trim() && raw.version !== 'NOASSERTION') {
    out.version = raw.version.trim();
  }
  if (typeof raw.purl === 'string' && raw.purl.trim()) {
    const p = parsePurl(raw.purl);
    if ('error' in p) {
      problems.push({ source, record: `${label} ${out.name}`, why: p.error });
    } else {
      out.purl = p.purl;
      out.identity = cycloneDxGroup(p.identity, raw.group);
      if (p.distro) out.distro = p.distro;
      // The purl's version is what the package manager resolved; fall back to it when the field is empty.
      if (p.version && !out.version) out.version = p.version;
    }
  }
  for (const [alg, content] of raw.hashes) {
    const a = typeof alg === 'string' ? alg.replace(/-/g, '').toLowerCase() : '';
    if ((a === 'sha256' || a === 'sha512') && typeof content === 'string') {
      const hex = content.trim().toLowerCase();
      if (/^[0-9a-f]+$/.test(hex) && hex.length === (a === 'sha256' ? 64 : 128))
        out.hashes.push({ algorithm: a, hex });
      else problems.push({ source, record: `${label} ${out.name}`, why: `malformed ${a} hash ignored` });
    }
  }
  return out;
}

/** An npm purl written without its scope, with the scope in CycloneDX `group`, is the scoped package. */
function cycloneDxGroup(id: PackageIdentity, group: unknown): PackageIdentity {
  if (id.ecosystem !== 'npm' || typeof group !== 'string' || !group.trim() || id.name.startsWith('@'))
    return id;
  const g = group.trim().replace(/^%40/i, '@');
  return { ...id, name: `${g.startsWith('@') ? g : `@${g}`}/${id.name}` };
}
