import type { Component, Sbom } from './sbom.ts';

/** How two images' SBOMs differ, package by package; `added` is where an injected dependency shows itself. */
export type SbomDiff = {
  added: Component[];
  removed: Component[];
  changed: Array<{ before: Component; after: Component }>;
  unchanged: number;
};

function key(c: Component): string {
  return c.identity ? `${c.identity.ecosystem}/${c.identity.name}` : `?/${c.name}`;
}

export function diffSboms(good: Pick<Sbom, 'components'>, suspicious: Pick<Sbom, 'components'>): SbomDiff {
  const group = (s: Pick<Sbom, 'components'>) => {
    const m = new Map<string, Component[]>();
    for (const c of s.components) m.set(key(c), [...(m.get(key(c)) ?? []), c]);
    return m;
  };
  const a = group(good);
  const b = group(suspicious);
  const out: SbomDiff = { added: [], removed: [], changed: [], unchanged: 0 };
  for (const [k, after] of b) {
    const before = a.get(k);
    if (!before) {
      out.added.push(...after);
      continue;
    }
    const bv = new Set(before.map((c) => c.version ?? ''));
    const av = new Set(after.map((c) => c.version ?? ''));
    const same = bv.size === av.size && [...bv].every((v) => av.has(v));
    if (same) out.unchanged++;
    else if (before.length === 1 && after.length === 1)
      out.changed.push({ before: before[0] as Component, after: after[0] as Component });
    else {
      // Several versions side by side: the versions only in the suspicious image are new, the others gone.
      out.added.push(...after.filter((c) => !bv.has(c.version ?? '')));
      out.removed.push(...before.filter((c) => !av.has(c.version ?? '')));
    }
  }
  for (const [k, before] of a) if (!b.has(k)) out.removed.push(...before);
  const byName = (x: Component, y: Component) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0);
  out.added.sort(byName);
  out.removed.sort(byName);
  out.changed.sort((x, y) => byName(x.after, y.after));
  return out;
}
