import type { Advisory, AffectedPackage } from './model.ts';
import { identityKey } from './purl.ts';
import { isAffected, type Verdict } from './ranges.ts';
import type { Component, Sbom } from './sbom.ts';

/** A component of one SBOM that an advisory names, with how sure scope is. */
export type ComponentMatch = {
  /** Key of the SBOM (an image digest in the fleet, a file path in `sbom-check`). */
  sbom: string;
  component: Component;
  via: 'package' | 'artifact-hash';
  /** `unknown`: the package matches but its version could not be ordered in its ecosystem. */
  certainty: 'affected' | 'unknown';
};

type Entry = { sbom: string; component: Component };

/**
 * Components of many SBOMs indexed by package identity (then version) and by hash, so one advisory is
 * matched by a few map lookups and one range evaluation per distinct version, whatever the fleet size.
 */
export class ComponentIndex {
  readonly #byPackage = new Map<string, Map<string, Entry[]>>();
  readonly #byHash = new Map<string, Entry[]>();
  readonly #sboms = new Set<string>();

  add(key: string, sbom: Pick<Sbom, 'components'>): void {
    this.#sboms.add(key);
    for (const component of sbom.components) {
      const entry = { sbom: key, component };
      const id = component.identity;
      if (id && component.version) {
        for (const name of [id.name, ...(id.aliases ?? [])]) {
          const k = identityKey(id.ecosystem, name);
          let versions = this.#byPackage.get(k);
          if (!versions) {
            versions = new Map();
            this.#byPackage.set(k, versions);
          }
          const list = versions.get(component.version);
          if (list) list.push(entry);
          else versions.set(component.version, [entry]);
        }
      }
      for (const h of component.hashes) {
        const k = `${h.algorithm}:${h.hex}`;
        const list = this.#byHash.get(k);
        if (list) list.push(entry);
        else this.#byHash.set(k, [entry]);
      }
    }
  }

  has(key: string): boolean {
    return this.#sboms.has(key);
  }

  get size(): number {
    return this.#sboms.size;
  }

  /** Every component an advisory names; withdrawn advisories match nothing. */
  match(advisory: Advisory): ComponentMatch[] {
    if (advisory.withdrawn) return [];
    const out: ComponentMatch[] = [];
    const seen = new Set<Entry>();
    for (const pkg of advisory.packages) this.#matchPackage(pkg, out, seen);
    for (const ind of advisory.indicators) {
      if (ind.kind !== 'artifact-hash') continue;
      for (const e of this.#byHash.get(`${ind.algorithm}:${ind.hex}`) ?? []) {
        out.push({ ...e, via: 'artifact-hash', certainty: 'affected' });
      }
    }
    return out;
  }

  #matchPackage(pkg: AffectedPackage, out: ComponentMatch[], seen: Set<Entry>): void {
    const versions = this.#byPackage.get(identityKey(pkg.ecosystem, pkg.name));
    if (!versions) return;
    for (const [version, entries] of versions) {
      const verdict: Verdict = isAffected(pkg, version);
      if (verdict === 'not-affected') continue;
      for (const e of entries) {
        // A component reachable under its own name and its source name counts once.
        if (seen.has(e)) continue;
        seen.add(e);
        out.push({ ...e, via: 'package', certainty: verdict === 'affected' ? 'affected' : 'unknown' });
      }
    }
  }
}

/** Where an image runs now or ran within the look-back window, as the inventory knows it. */
export type Exposure = {
  environment: string;
  cluster: string;
  namespace: string;
  workload: string;
  image: string;
  digest?: string;
  repository?: string;
  tag?: string;
  state: 'current' | 'past';
  firstSeen?: string;
  lastSeen?: string;
};

/** One place an advisory applies: a workload, how it matched, and what matched. */
export type Finding = Exposure & {
  via: 'image-digest' | 'image-repository' | 'image-tag' | 'package' | 'artifact-hash';
  component?: { name: string; purl?: string; version?: string };
  certainty: 'affected' | 'unknown';
};

/** Findings of one advisory, sorted, with their keys (same order) for fingerprints and change notes. */
export type FleetMatch = { findings: Finding[]; keys: string[] };

/** The fleet (exposures) plus the SBOMs of its images, indexed for matching one advisory quickly. */
export class FleetIndex {
  readonly #byDigest = new Map<string, Exposure[]>();
  readonly #byRepo = new Map<string, Exposure[]>();
  /** Exposure part of every finding key, computed once per exposure. */
  readonly #keys = new Map<Exposure, string>();
  readonly components: ComponentIndex;
  readonly exposures: readonly Exposure[];

  constructor(exposures: readonly Exposure[], components: ComponentIndex) {
    this.exposures = exposures;
    this.components = components;
    for (const e of exposures) {
      if (e.digest) push(this.#byDigest, e.digest, e);
      if (e.repository) push(this.#byRepo, e.repository, e);
      this.#keys.set(e, exposureKey(e));
    }
  }

  /** Distinct digests of the fleet (current and past), e.g. to know which SBOMs to load. */
  digests(): string[] {
    return [...this.#byDigest.keys()];
  }

  match(advisory: Advisory): Finding[] {
    return this.matchWithKeys(advisory).findings;
  }

  matchWithKeys(advisory: Advisory): FleetMatch {
    if (advisory.withdrawn) return { findings: [], keys: [] };
    const hits: Array<{ key: string; finding: Finding }> = [];
    const add = (
      e: Exposure,
      via: Finding['via'],
      certainty: Finding['certainty'],
      component?: Finding['component'],
    ) => {
      const key = `${this.#keys.get(e) ?? exposureKey(e)}|${via}|${component?.purl ?? component?.name ?? ''}`;
      hits.push({ key, finding: component ? { ...e, via, component, certainty } : { ...e, via, certainty } });
    };
    for (const ind of advisory.indicators) {
      if (ind.kind === 'image-digest') {
        for (const e of this.#byDigest.get(ind.digest) ?? []) add(e, 'image-digest', 'affected');
      } else if (ind.kind === 'image-repository') {
        for (const e of this.#byRepo.get(ind.repository) ?? []) add(e, 'image-repository', 'affected');
      } else if (ind.kind === 'image-tag') {
        for (const e of this.#byRepo.get(ind.repository) ?? [])
          if (e.tag === ind.tag) add(e, 'image-tag', 'affected');
      }
    }
    for (const m of this.components.match(advisory)) {
      const component = {
        name: m.component.name,
        ...(m.component.purl ? { purl: m.component.purl } : {}),
        ...(m.component.version ? { version: m.component.version } : {}),
      };
      for (const e of this.#byDigest.get(m.sbom) ?? []) add(e, m.via, m.certainty, component);
    }
    // Sorted by key so equal match sets list (and fingerprint) identically; one finding per key.
    hits.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const findings: Finding[] = [];
    const keys: string[] = [];
    for (const h of hits) {
      if (keys.length && keys[keys.length - 1] === h.key) continue;
      keys.push(h.key);
      findings.push(h.finding);
    }
    return { findings, keys };
  }
}

function exposureKey(e: Exposure): string {
  return `${e.cluster}|${e.namespace}|${e.workload}|${e.digest ?? e.image}|${e.state}`;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Stable identity of a finding: the same place, image, state, route and component. */
export function findingKey(f: Finding): string {
  return [
    f.cluster,
    f.namespace,
    f.workload,
    f.digest ?? f.image,
    f.state,
    f.via,
    f.component?.purl ?? f.component?.name ?? '',
  ].join('|');
}
