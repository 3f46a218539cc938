import type { AdvisoriesConfig } from '../../adapters/feeds/config.ts';
import { ComponentIndex, FleetIndex, type FleetMatch } from '../../domain/advisories/match.ts';
import type { SbomSource } from '../../domain/advisories/ports.ts';
import type { Logger } from '../../log.ts';
import {
  type AdvisoryStore,
  MAX_STORED_FINDINGS,
  type MatchSummary,
} from '../../store/advisories/advisory-store.ts';
import type { InventoryReader } from '../inventory-queries.ts';
import { imageSetFingerprint, loadExposures } from './fleet.ts';
import {
  type MatchedAdvisory,
  type NotifyOutcome,
  type NotifyPorts,
  reconcileNotifications,
} from './notify.ts';

/** What advisory jobs and commands need; built by the worker process, the CLI and tests. */
export type AdvisoryPorts = {
  config: AdvisoriesConfig;
  store: AdvisoryStore;
  inventory: InventoryReader;
  sboms: SbomSource;
  log: Logger;
  /** Absent where nothing is posted (CLI). */
  notify?: NotifyPorts;
};

export type RematchOutcome = {
  advisories: number;
  matched: number;
  findings: number;
  indexRebuilt: boolean;
  images: number;
  sboms: number;
  notify?: NotifyOutcome;
};

/** Names of the feeds that are enabled, in configuration order (first one wins on duplicate ids). */
export function enabledFeeds(config: AdvisoriesConfig): string[] {
  return config.feeds.filter((f) => f.enabled).map((f) => f.name);
}

/**
 * Matches all advisories against the fleet and reconciles notifications. Keeps the fleet index between
 * runs and rebuilds it only when the fleet's image set (current and past) or the SBOM sources change: this is
 * the hook that makes a new deployment of a known-bad digest or package alert within one rematch interval.
 */
export class AdvisoryMatcher {
  readonly #ports: AdvisoryPorts;
  #cache: { key: string; index: FleetIndex; sboms: number } | undefined;

  constructor(ports: AdvisoryPorts) {
    this.#ports = ports;
  }

  async fleetIndex(now: Date): Promise<{ index: FleetIndex; rebuilt: boolean; sboms: number }> {
    const exposures = await loadExposures(this.#ports.inventory, now);
    const key = `${imageSetFingerprint(exposures)}|${await this.#ports.sboms.version()}`;
    if (this.#cache?.key === key) {
      // Same images: reuse the component index, refresh exposures (states and times may have changed).
      return {
        index: new FleetIndex(exposures, this.#cache.index.components),
        rebuilt: false,
        sboms: this.#cache.sboms,
      };
    }
    const components = new ComponentIndex();
    const done = new Set<string>();
    for (const e of exposures) {
      if (!e.digest || done.has(e.digest)) continue;
      done.add(e.digest);
      const found = await this.#ports.sboms.sbomFor({
        digest: e.digest,
        ...(e.repository ? { repository: e.repository } : {}),
        ...(e.tag ? { tag: e.tag } : {}),
      });
      if (found) components.add(e.digest, found.sbom);
    }
    const index = new FleetIndex(exposures, components);
    this.#cache = { key, index, sboms: components.size };
    return { index, rebuilt: true, sboms: components.size };
  }

  async rematch(now = new Date()): Promise<RematchOutcome> {
    const { store, config, log } = this.#ports;
    const { index, rebuilt, sboms } = await this.fleetIndex(now);
    const advisories = await store.advisories(enabledFeeds(config));
    const matched: MatchedAdvisory[] = [];
    const summaries: MatchSummary[] = [];
    let findingsTotal = 0;
    for (const advisory of advisories) {
      const m = index.matchAdvisory(advisory);
      const total = m.total;
      const fingerprint = m.fingerprint(advisory.id);
      matched.push({ advisory, fingerprint, total, findings: () => m.findings() });
      if (total === 0) continue;
      findingsTotal += total;
      summaries.push(summarise(advisory.id, m, fingerprint, now));
    }
    await store.saveMatches(summaries, now);
    const outcome: RematchOutcome = {
      advisories: advisories.length,
      matched: summaries.length,
      findings: findingsTotal,
      indexRebuilt: rebuilt,
      images: index.digests().length,
      sboms,
    };
    if (this.#ports.notify) {
      outcome.notify = await reconcileNotifications(await store.subscriptions(), matched, this.#ports.notify);
    }
    log.info(outcome, 'advisories re-matched');
    return outcome;
  }
}

export function summarise(id: string, m: FleetMatch, fingerprint: string, now: Date): MatchSummary {
  return {
    id,
    fingerprint,
    ...m.counts(),
    total: m.total,
    findings: m.findings(MAX_STORED_FINDINGS),
    matchedAt: now.toISOString(),
  };
}
