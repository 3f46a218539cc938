/**
 * Distribution releases: an OSV ecosystem such as `Debian:12`, `Ubuntu:22.04:LTS` or `Alpine:v3.18` applies to
 * one release of the distribution, and an SBOM says which release a package came from in its purl's `distro`
 * qualifier (`distro=debian-12`, `distro=bookworm`, `distro=alpine-3.18.4`, `distro=ubuntu-22.04`). Pure.
 */

/** The distributions whose OSV ecosystems carry a release. */
type Family = 'debian' | 'ubuntu' | 'alpine';

const DEBIAN_CODENAMES: Readonly<Record<string, string>> = {
  buster: '10',
  bullseye: '11',
  bookworm: '12',
  trixie: '13',
};

/** Ubuntu LTS codenames as tools such as syft write them (`distro=jammy`). */
const UBUNTU_CODENAMES: Readonly<Record<string, string>> = {
  bionic: '18.04',
  focal: '20.04',
  jammy: '22.04',
  noble: '24.04',
};

/**
 * How an advisory's release compares with a component's:
 * - `none`: the advisory's ecosystem names no release (`npm`, `Debian`) — nothing to compare;
 * - `same` / `different`: both releases are known;
 * - `unchecked`: the advisory names a release but the SBOM does not say one, or says one scope cannot read.
 */
export type ReleaseCheck =
  | { result: 'none' | 'same' | 'different' }
  | { result: 'unchecked'; why: 'no-distro' | 'unreadable-distro' | 'unreadable-advisory'; distro?: string };

function family(key: string): Family | undefined {
  return key === 'debian' || key === 'ubuntu' || key === 'alpine' ? key : undefined;
}

/** The release an OSV ecosystem applies to, normalised (`Debian:12` → 12, `Alpine:v3.18` → 3.18). */
export function ecosystemRelease(
  ecosystemName: string,
): { family: Family; release: string | undefined } | undefined {
  const parts = ecosystemName.split(':').map((p) => p.trim());
  const fam = family((parts[0] ?? '').toLowerCase());
  if (!fam || parts.length < 2) return undefined;
  const rest = parts.slice(1);
  switch (fam) {
    case 'debian':
      return { family: fam, release: debianRelease(rest[0] ?? '') };
    case 'alpine':
      return { family: fam, release: alpineRelease(rest[0] ?? '') };
    case 'ubuntu':
      // `Ubuntu:22.04:LTS`, `Ubuntu:Pro:18.04:LTS`, `Ubuntu:24.10`: the YY.MM part is the release.
      return { family: fam, release: rest.map(ubuntuRelease).find((r) => r !== undefined) };
  }
}

/** The release a purl `distro` qualifier names for the given distribution, undefined when unreadable. */
export function distroRelease(fam: Family, distro: string): string | undefined {
  const v = distro.trim().toLowerCase();
  // `debian-12`, `alpine-3.18.4`, `ubuntu-22.04`; a prefix naming another distribution is not this release.
  const m = /^([a-z]+)-(.+)$/.exec(v);
  if (m && m[1] !== fam) return undefined;
  const value = m ? (m[2] as string) : v;
  switch (fam) {
    case 'debian':
      return debianRelease(value);
    case 'alpine':
      return alpineRelease(value);
    case 'ubuntu':
      return ubuntuRelease(value);
  }
}

function debianRelease(v: string): string | undefined {
  const s = v.toLowerCase();
  if (DEBIAN_CODENAMES[s]) return DEBIAN_CODENAMES[s];
  const m = /^(\d{1,3})(?:\.\d+)*$/.exec(s);
  return m ? String(Number(m[1])) : undefined;
}

function alpineRelease(v: string): string | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.\d+)*$/i.exec(v);
  return m ? `${Number(m[1])}.${Number(m[2])}` : undefined;
}

function ubuntuRelease(v: string): string | undefined {
  const s = v.toLowerCase();
  if (UBUNTU_CODENAMES[s]) return UBUNTU_CODENAMES[s];
  const m = /^(\d{2})\.(\d{2})(?:\.\d+)?$/.exec(s);
  return m ? `${m[1]}.${m[2]}` : undefined;
}

/** Compares the release of an advisory's ecosystem with a component's purl `distro` qualifier. */
export function checkRelease(ecosystemName: string, distro: string | undefined): ReleaseCheck {
  const adv = ecosystemRelease(ecosystemName);
  if (!adv) return { result: 'none' };
  if (adv.release === undefined) return { result: 'unchecked', why: 'unreadable-advisory' };
  if (distro === undefined || distro.trim() === '') return { result: 'unchecked', why: 'no-distro' };
  const own = distroRelease(adv.family, distro);
  if (own === undefined)
    return { result: 'unchecked', why: 'unreadable-distro', distro: distro.slice(0, 64) };
  return { result: own === adv.release ? 'same' : 'different' };
}
