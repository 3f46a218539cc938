import type { AdvisoriesConfig } from '../../adapters/feeds/config.ts';
import { ComponentIndex, neverVerified } from '../../domain/advisories/match.ts';
import { type Advisory, severityRank } from '../../domain/advisories/model.ts';
import type { ImageKey, SbomSource } from '../../domain/advisories/ports.ts';
import type { Component } from '../../domain/advisories/sbom.ts';
import { diffSboms, type SbomDiff } from '../../domain/advisories/sbom-diff.ts';
import { UserFacingError } from '../../errors.ts';
import type {
  AdvisoryStore,
  FeedState,
  MatchSummary,
  Subscription,
} from '../../store/advisories/advisory-store.ts';
import { enabledFeeds } from './matcher.ts';

/** What advisory commands read and write; built by the container (worker) or the CLI. */
export type AdvisoryCommandPorts = { store: AdvisoryStore; config: AdvisoriesConfig; sboms: SbomSource };

/** `/scope advisories`: advisories that match, with counts, and feed health. */
export type AdvisoriesReport = {
  loaded: number;
  withdrawn: number;
  active: Array<{
    id: string;
    title: string;
    severity: Advisory['severity'];
    source: string;
    current: number;
    past: number;
    total: number;
    /** Running digests never verified: whether its signer identities signed them is unknown. */
    undecided?: number;
  }>;
  /** Advisories naming a signer that match nothing verified, while some digests were never verified. */
  undecided: Array<{
    id: string;
    title: string;
    severity: Advisory['severity'];
    source: string;
    running: number;
  }>;
  feeds: FeedState[];
  configuredFeeds: string[];
  /** When the fleet was last matched; absent before the first re-match. */
  matchedAt?: string;
};

export type AdvisoryReport = { advisory: Advisory; match?: MatchSummary };

export type DiffReport = {
  good: { image: string; origin: string };
  suspicious: { image: string; origin: string };
  diff: SbomDiff;
  /** Added or changed-to components that an advisory names. */
  flagged: Array<{
    component: Component;
    advisory: { id: string; title: string; severity: Advisory['severity'] };
    certainty: 'affected' | 'unknown';
  }>;
};

export type WatchReport = {
  channel: string;
  action: 'watch' | 'unwatch';
  subscription?: Subscription;
  feeds: string[];
};

export async function listAdvisories(p: AdvisoryCommandPorts): Promise<AdvisoriesReport> {
  const feeds = enabledFeeds(p.config);
  const [advisories, matches, states, matchedAt] = await Promise.all([
    p.store.advisories(feeds),
    p.store.matches(),
    p.store.feedStates(),
    p.store.matchedAt(),
  ]);
  const byId = new Map(advisories.map((a) => [a.id, a]));
  const running = (m: MatchSummary) => m.signers?.unverified.current ?? 0;
  const undecided = matches
    .filter((m) => m.total === 0 && neverVerified(m.signers) > 0)
    .flatMap((m) => {
      const a = byId.get(m.id);
      return a
        ? [{ id: a.id, title: a.title, severity: a.severity, source: a.source, running: running(m) }]
        : [];
    })
    .sort((x, y) => severityRank(x.severity) - severityRank(y.severity) || x.id.localeCompare(y.id));
  const active = matches
    .filter((m) => m.total > 0)
    .map((m) => {
      const a = byId.get(m.id);
      return a
        ? {
            id: a.id,
            title: a.title,
            severity: a.severity,
            source: a.source,
            current: m.current,
            past: m.past,
            total: m.total,
            ...(running(m) > 0 ? { undecided: running(m) } : {}),
          }
        : undefined;
    })
    .filter((x): x is NonNullable<typeof x> => !!x)
    .sort(
      (x, y) =>
        y.current - x.current ||
        severityRank(x.severity) - severityRank(y.severity) ||
        x.id.localeCompare(y.id),
    );
  return {
    loaded: advisories.length,
    withdrawn: advisories.filter((a) => a.withdrawn).length,
    active,
    undecided,
    feeds: states.filter((s) => p.config.feeds.some((f) => f.name === s.feed)),
    configuredFeeds: p.config.feeds.map((f) => f.name),
    ...(matchedAt ? { matchedAt } : {}),
  };
}

export async function showAdvisory(p: AdvisoryCommandPorts, id: string): Promise<AdvisoryReport> {
  const advisory = await p.store.advisory(enabledFeeds(p.config), id);
  if (!advisory) {
    throw new UserFacingError(
      'NOT_FOUND',
      `No advisory ${id} in the enabled feeds.`,
      '`/scope advisories` lists the ones that match.',
    );
  }
  const match = await p.store.match(id);
  return match ? { advisory, match } : { advisory };
}

export async function diffImages(
  p: AdvisoryCommandPorts,
  good: ImageKey & { label: string },
  bad: ImageKey & { label: string },
): Promise<DiffReport> {
  const [a, b] = await Promise.all([p.sboms.sbomFor(good), p.sboms.sbomFor(bad)]);
  for (const [found, img] of [
    [a, good],
    [b, bad],
  ] as const) {
    if (!found) {
      throw new UserFacingError(
        'NOT_FOUND',
        `No SBOM is known for ${img.label}.`,
        'Configure one under advisories.sboms (by digest or repository); see docs/CONFIGURATION.md.',
      );
    }
  }
  const ga = a as NonNullable<typeof a>;
  const gb = b as NonNullable<typeof b>;
  const diff = diffSboms(ga.sbom, gb.sbom);
  const index = new ComponentIndex();
  index.add('new', { components: [...diff.added, ...diff.changed.map((c) => c.after)] });
  const flagged: DiffReport['flagged'] = [];
  for (const adv of await p.store.advisories(enabledFeeds(p.config))) {
    for (const m of index.match(adv)) {
      flagged.push({
        component: m.component,
        advisory: { id: adv.id, title: adv.title, severity: adv.severity },
        certainty: m.certainty,
      });
    }
  }
  return {
    good: { image: good.label, origin: ga.origin },
    suspicious: { image: bad.label, origin: gb.origin },
    diff,
    flagged,
  };
}

export async function watch(
  p: AdvisoryCommandPorts,
  channel: string | undefined,
  feed: string,
  action: 'watch' | 'unwatch',
  by?: string,
): Promise<WatchReport> {
  if (!channel)
    throw new UserFacingError(
      'BAD_INPUT',
      'Subscriptions are per channel, and this request has none.',
      'From the CLI, add --channel C0123ABCD.',
    );
  const feeds = p.config.feeds.map((f) => f.name);
  if (feed !== 'all' && !feeds.includes(feed)) {
    throw new UserFacingError(
      'NOT_FOUND',
      `There is no feed named ${feed}.`,
      `Feeds: ${feeds.join(', ') || 'none configured'}; or use \`all\`.`,
    );
  }
  const subs = await p.store.subscriptions();
  const current = subs.find((s) => s.channel === channel);
  const at = new Date().toISOString();
  if (action === 'watch') {
    const next: Subscription['feeds'] =
      feed === 'all' || current?.feeds === 'all' ? 'all' : [...new Set([...(current?.feeds ?? []), feed])];
    const subscription: Subscription = { channel, feeds: next, at, ...(by ? { by } : {}) };
    await p.store.watch(subscription);
    return { channel, action, subscription, feeds };
  }
  if (!current) return { channel, action, feeds };
  if (feed === 'all' || current.feeds === 'all' || current.feeds.every((f) => f === feed)) {
    await p.store.unwatch(channel);
    return { channel, action, feeds };
  }
  const subscription: Subscription = { ...current, feeds: current.feeds.filter((f) => f !== feed), at };
  await p.store.watch(subscription);
  return { channel, action, subscription, feeds };
}
