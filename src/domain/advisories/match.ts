import { createHash } from 'node:crypto';
import type { ComponentIndex, ReleaseUnchecked } from './component-index.ts';
import type { Advisory } from './model.ts';
import type { SignerIndex, SignerObservation } from './signers.ts';

export { ComponentIndex, type ComponentMatch } from './component-index.ts';

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
  via: 'image-digest' | 'image-repository' | 'image-tag' | 'package' | 'artifact-hash' | 'signer-identity';
  component?: { name: string; purl?: string; version?: string };
  /** `signer-identity`: the signature of the digest made by the identity the advisory names. */
  signature?: SignerObservation;
  /** A package advisory for a distribution release (`Debian:12`) the SBOM does not let scope check. */
  releaseUnchecked?: ReleaseUnchecked;
  certainty: 'affected' | 'unknown';
};

type FindingComponent = NonNullable<Finding['component']>;

/**
 * For an advisory naming signer identities: the fleet's digests for which that cannot be decided. Who signed
 * a digest is known only from its verification (`/scope verify`), so a digest never verified is unknown —
 * never "not signed by it".
 */
export type SignerCoverage = {
  identities: string[];
  /** Digests with no signer record, running now / only in the look-back window. */
  unverified: { current: number; past: number };
  /** Digests whose verification did not read every signature place and found no matching signature. */
  partial: { current: number; past: number };
};

/** One image an advisory reaches (by digest indicator or an SBOM component), before expansion to workloads. */
type ImageHit = {
  key: string;
  digest: string;
  via: Finding['via'];
  certainty: Finding['certainty'];
  component?: FindingComponent;
  signature?: SignerObservation;
  releaseUnchecked?: ReleaseUnchecked;
};

/** What the index keeps per digest: its exposures, their keys, and a signature of the set. */
type DigestEntry = {
  exposures: Exposure[];
  keys: string[];
  signature: string;
  current: string[];
  past: string[];
};

/**
 * The match of one advisory, kept at image level: cheap to fingerprint and count whatever the fleet size;
 * expanded to per-workload findings only when a message or a summary needs them.
 */
export class FleetMatch {
  readonly #hits: readonly ImageHit[];
  readonly #direct: ReadonlyArray<{ key: string; finding: Finding }>;
  readonly #digests: ReadonlyMap<string, DigestEntry>;
  /** Set when the advisory names signer identities. */
  readonly signers: SignerCoverage | undefined;

  constructor(
    hits: ImageHit[],
    direct: Array<{ key: string; finding: Finding }>,
    digests: ReadonlyMap<string, DigestEntry>,
    signers?: SignerCoverage,
  ) {
    this.#hits = hits;
    this.#direct = direct;
    this.#digests = digests;
    this.signers = signers;
  }

  /** Digests of the fleet never verified: the advisory's signer identities cannot be ruled in or out for them. */
  get neverVerified(): number {
    return neverVerified(this.signers);
  }

  get empty(): boolean {
    return this.total === 0;
  }

  /** Number of findings (workload × image × route) the match expands to. */
  get total(): number {
    let n = this.#direct.length;
    for (const h of this.#hits) n += this.#digests.get(h.digest)?.exposures.length ?? 0;
    return n;
  }

  /** Changes exactly when the expanded findings would change (same hits, same exposures of those images). */
  fingerprint(advisoryId: string): string {
    const h = createHash('sha256').update(advisoryId);
    for (const x of this.#hits)
      h.update('\n')
        .update(x.key)
        .update('#')
        .update(this.#digests.get(x.digest)?.signature ?? '');
    for (const d of this.#direct) h.update('\n').update(d.key);
    const s = this.signers;
    // How many digests are unknown is part of what the notification shows (partly verified ones are a caveat
    // shown with it, not a reason to post or update on their own).
    if (s && this.neverVerified > 0) h.update(`\nunverified ${s.unverified.current} ${s.unverified.past}`);
    return h.digest('hex').slice(0, 32);
  }

  /** Distinct workloads running / that ran a matching image (a workload running it now is not also past). */
  counts(): { current: number; past: number } {
    const cur = new Set<string>();
    const past = new Set<string>();
    for (const h of this.#hits) {
      const e = this.#digests.get(h.digest);
      if (!e) continue;
      for (const w of e.current) cur.add(w);
      for (const w of e.past) past.add(w);
    }
    for (const d of this.#direct) (d.finding.state === 'current' ? cur : past).add(workloadId(d.finding));
    for (const w of cur) past.delete(w);
    return { current: cur.size, past: past.size };
  }

  /** The findings, sorted by key (at most `limit`, taken in that order). */
  findings(limit = Number.POSITIVE_INFINITY): Finding[] {
    return this.withKeys(limit).findings;
  }

  withKeys(limit = Number.POSITIVE_INFINITY): { findings: Finding[]; keys: string[] } {
    const all: Array<{ key: string; finding: Finding }> = [];
    const partial = limit < this.total;
    // A partial list (stored summaries) is taken in hit order, each image's exposures in key order: deterministic
    // without expanding and sorting everything. The full list is sorted by key.
    for (const d of this.#direct) {
      if (partial && all.length >= limit) break;
      all.push(d);
    }
    for (const h of this.#hits) {
      const e = this.#digests.get(h.digest);
      if (!e) continue;
      const suffix = `|${h.via}|${hitDetail(h)}`;
      for (let i = 0; i < e.exposures.length; i++) {
        if (partial && all.length >= limit) break;
        const x = e.exposures[i] as Exposure;
        all.push({
          key: `${e.keys[i]}${suffix}`,
          finding: {
            ...x,
            via: h.via,
            ...(h.component ? { component: h.component } : {}),
            ...(h.signature ? { signature: h.signature } : {}),
            ...(h.releaseUnchecked ? { releaseUnchecked: h.releaseUnchecked } : {}),
            certainty: h.certainty,
          },
        });
      }
    }
    if (!partial) all.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    return { findings: all.map((x) => x.finding), keys: all.map((x) => x.key) };
  }
}

/** Digests never verified (running or past): for them a signer-identity advisory is unknown. */
export function neverVerified(c: SignerCoverage | undefined): number {
  return c ? c.unverified.current + c.unverified.past : 0;
}

/** What tells two hits on one image apart: the component, or the signature (identity, place). */
function hitDetail(h: { component?: FindingComponent; signature?: SignerObservation }): string {
  if (h.component) return h.component.purl ?? h.component.name;
  return h.signature ? signatureDetail(h.signature) : '';
}

function signatureDetail(o: SignerObservation): string {
  const who = o.signer.kind === 'keyless' ? o.signer.identity : o.signer.key;
  return `${who}@${o.path}:${o.reference}`;
}

function workloadId(e: Exposure): string {
  return `${e.cluster}|${e.namespace}|${e.workload}`;
}

/** The fleet (exposures) plus the SBOMs of its images, indexed for matching one advisory quickly. */
export class FleetIndex {
  readonly #byDigest = new Map<string, DigestEntry>();
  readonly #byRepo = new Map<string, Exposure[]>();
  readonly components: ComponentIndex;
  readonly exposures: readonly Exposure[];
  /** Who signed the fleet's digests, as verification recorded it; absent: never known (every digest unknown). */
  readonly #signers: SignerIndex | undefined;
  #undecided: { unverified: SignerCoverage['unverified']; incomplete: string[] } | undefined;

  constructor(exposures: readonly Exposure[], components: ComponentIndex, signers?: SignerIndex) {
    this.exposures = exposures;
    this.components = components;
    this.#signers = signers;
    for (const e of exposures) {
      if (e.digest) {
        let d = this.#byDigest.get(e.digest);
        if (!d) {
          d = { exposures: [], keys: [], signature: '', current: [], past: [] };
          this.#byDigest.set(e.digest, d);
        }
        d.exposures.push(e);
        d.keys.push(exposureKey(e));
        (e.state === 'current' ? d.current : d.past).push(workloadId(e));
      }
      if (e.repository) push(this.#byRepo, e.repository, e);
    }
    for (const d of this.#byDigest.values()) {
      const order = d.keys.map((k, n) => [k, n] as const).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
      d.exposures = order.map(([, n]) => d.exposures[n] as Exposure);
      d.keys = order.map(([k]) => k);
      d.signature = createHash('sha256').update(d.keys.join('\n')).digest('hex').slice(0, 16);
    }
  }

  /** Distinct digests of the fleet (current and past), e.g. to know which SBOMs to load. */
  digests(): string[] {
    return [...this.#byDigest.keys()];
  }

  match(advisory: Advisory): Finding[] {
    return this.matchAdvisory(advisory).findings();
  }

  matchAdvisory(advisory: Advisory): FleetMatch {
    if (advisory.withdrawn) return new FleetMatch([], [], this.#byDigest);
    const hits = new Map<string, ImageHit>();
    const direct = new Map<string, Finding>();
    const identities: string[] = [];
    for (const ind of advisory.indicators) {
      if (ind.kind === 'signer-identity') {
        identities.push(ind.identity);
        for (const { digest, observation } of this.#signers?.find(ind.identity, ind.issuer) ?? []) {
          if (!this.#byDigest.has(digest)) continue;
          const key = `${digest}|signer-identity|${signatureDetail(observation)}`;
          if (!hits.has(key))
            hits.set(key, {
              key,
              digest,
              via: 'signer-identity',
              // A signer only claimed by a signature that did not verify is not proof.
              certainty: observation.cryptographic ? 'affected' : 'unknown',
              signature: observation,
            });
        }
      } else if (ind.kind === 'image-digest') {
        if (this.#byDigest.has(ind.digest)) {
          const key = `${ind.digest}|image-digest|`;
          hits.set(key, { key, digest: ind.digest, via: 'image-digest', certainty: 'affected' });
        }
      } else if (ind.kind === 'image-repository' || ind.kind === 'image-tag') {
        for (const e of this.#byRepo.get(ind.repository) ?? []) {
          if (ind.kind === 'image-tag' && e.tag !== ind.tag) continue;
          const key = `${exposureKey(e)}|${ind.kind}|`;
          if (!direct.has(key)) direct.set(key, { ...e, via: ind.kind, certainty: 'affected' });
        }
      }
    }
    for (const m of this.components.match(advisory)) {
      if (!this.#byDigest.has(m.sbom)) continue;
      const component: FindingComponent = {
        name: m.component.name,
        ...(m.component.purl ? { purl: m.component.purl } : {}),
        ...(m.component.version ? { version: m.component.version } : {}),
      };
      const key = `${m.sbom}|${m.via}|${component.purl ?? component.name}`;
      if (!hits.has(key))
        hits.set(key, {
          key,
          digest: m.sbom,
          via: m.via,
          certainty: m.certainty,
          component,
          ...(m.releaseUnchecked ? { releaseUnchecked: m.releaseUnchecked } : {}),
        });
    }
    const sortedHits = [...hits.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const sortedDirect = [...direct.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, finding]) => ({ key, finding }));
    const coverage = identities.length ? this.#coverage(identities, sortedHits) : undefined;
    return new FleetMatch(sortedHits, sortedDirect, this.#byDigest, coverage);
  }

  /** Digests the advisory's signer identities cannot be decided for (see SignerCoverage). */
  #coverage(identities: string[], hits: readonly ImageHit[]): SignerCoverage {
    if (!this.#undecided) {
      const unverified = { current: 0, past: 0 };
      const incomplete: string[] = [];
      for (const [digest, e] of this.#byDigest) {
        const rec = this.#signers?.record(digest);
        if (!rec) unverified[e.current.length ? 'current' : 'past']++;
        else if (!rec.complete) incomplete.push(digest);
      }
      this.#undecided = { unverified, incomplete };
    }
    const matched = new Set(hits.filter((h) => h.via === 'signer-identity').map((h) => h.digest));
    const partial = { current: 0, past: 0 };
    for (const d of this.#undecided.incomplete) {
      if (matched.has(d)) continue;
      partial[(this.#byDigest.get(d)?.current.length ?? 0) > 0 ? 'current' : 'past']++;
    }
    return { identities: [...new Set(identities)], unverified: { ...this.#undecided.unverified }, partial };
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
  return [f.cluster, f.namespace, f.workload, f.digest ?? f.image, f.state, f.via, hitDetail(f)].join('|');
}
