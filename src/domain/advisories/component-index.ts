import type { Advisory, AffectedPackage } from './model.ts';
import { identityKey } from './purl.ts';
import { isAffected, type Verdict } from './ranges.ts';
import { checkRelease } from './release.ts';
import type { Component, Sbom } from './sbom.ts';

/** A component of one SBOM that an advisory names, with how sure scope is. */
export type ComponentMatch = {
  /** Key of the SBOM (an image digest in the fleet, a file path in `sbom-check`). */
  sbom: string;
  component: Component;
  via: 'package' | 'artifact-hash';
  /** `unknown`: the package matches but its version could not be ordered in its ecosystem. */
  certainty: 'affected' | 'unknown';
  /** Set when the advisory names a distribution release (`Debian:12`) the SBOM does not let scope check. */
  releaseUnchecked?: ReleaseUnchecked;
};

/** Why the release of an OS package could not be compared with the advisory's (`no-distro`: no qualifier). */
export type ReleaseUnchecked = {
  ecosystem: string;
  why: 'no-distro' | 'unreadable-distro' | 'unreadable-advisory';
  distro?: string;
};

type Entry = { sbom: string; component: Component };

/**
 * Components of many SBOMs indexed by package identity (then version) and by hash, so one advisory is
 * matched by a few map lookups and one range evaluation per distinct version, whatever the fleet size.
 */
export class ComponentIndex {
  readonly #byPackage = new Map<string, Map<string, Entry[]>>();
  readonly #byHash = new Map<string, Entry[]>();
  readonly #sboms = new Map<string, readonly Component[]>();

  add(key: string, sbom: Pick<Sbom, 'components'>): void {
    if (this.#sboms.has(key)) this.remove(key);
    this.#sboms.set(key, sbom.components);
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

  /** Takes one SBOM out again (an image that left the fleet), so the index can follow the fleet incrementally. */
  remove(key: string): void {
    const components = this.#sboms.get(key);
    if (!components) return;
    this.#sboms.delete(key);
    const drop = <K>(map: Map<K, Entry[]>, k: K) => {
      const list = map.get(k);
      if (!list) return;
      const kept = list.filter((e) => e.sbom !== key);
      if (kept.length) map.set(k, kept);
      else map.delete(k);
    };
    for (const component of components) {
      const id = component.identity;
      if (id && component.version) {
        for (const name of [id.name, ...(id.aliases ?? [])]) {
          const k = identityKey(id.ecosystem, name);
          const versions = this.#byPackage.get(k);
          if (!versions) continue;
          drop(versions, component.version);
          if (versions.size === 0) this.#byPackage.delete(k);
        }
      }
      for (const h of component.hashes) drop(this.#byHash, `${h.algorithm}:${h.hex}`);
    }
  }

  has(key: string): boolean {
    return this.#sboms.has(key);
  }

  keys(): string[] {
    return [...this.#sboms.keys()];
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
        // `Debian:11` says nothing about a Debian 12 package of the same name and version.
        const release = checkRelease(pkg.ecosystemName, e.component.distro);
        if (release.result === 'different') continue;
        seen.add(e);
        const certainty = verdict === 'affected' ? 'affected' : 'unknown';
        if (release.result !== 'unchecked') {
          out.push({ ...e, via: 'package', certainty });
          continue;
        }
        const releaseUnchecked: ReleaseUnchecked = {
          ecosystem: pkg.ecosystemName,
          why: release.why,
          ...(release.distro ? { distro: release.distro } : {}),
        };
        out.push({ ...e, via: 'package', certainty, releaseUnchecked });
      }
    }
  }
}
