import type { AdvisoriesConfig } from '../../adapters/feeds/config.ts';
import { ComponentIndex, FleetIndex, type FleetMatch } from '../../domain/advisories/match.ts';
import type { Advisory } from '../../domain/advisories/model.ts';
import type { SbomSource } from '../../domain/advisories/ports.ts';
import { SignerIndex } from '../../domain/advisories/signers.ts';
import type { Logger } from '../../log.ts';
import {
  type AdvisoryStore,
  MAX_STORED_FINDINGS,
  type MatchSummary,
} from '../../store/advisories/advisory-store.ts';
import type { SignerRecordReader } from '../../store/provenance/signer-records.ts';
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
  /** Who signed the fleet's digests (recorded by `/scope verify`); absent: every digest is unknown for signer IOCs. */
  signers?: SignerRecordReader;
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
  /** Digests with a signer record, read when an advisory names a signer identity. */
  signerRecords?: number;
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
  #cache: { key: string; sourceVersion: string; components: ComponentIndex; looked: Set<string> } | undefined;

  constructor(ports: AdvisoryPorts) {
    this.#ports = ports;
  }

  /**
   * The fleet index for now. The SBOM component index follows the fleet incrementally: images that appeared
   * are looked up and added, images gone from the inventory (current and history) are removed; a change of
   * the SBOM sources rebuilds it. Exposures are re-read every time (states and times change).
   */
  async fleetIndex(
    now: Date,
    opts: { signers?: boolean } = {},
  ): Promise<{ index: FleetIndex; rebuilt: boolean; sboms: number; signerRecords?: number }> {
    const exposures = await loadExposures(this.#ports.inventory, now);
    const signers = opts.signers ? await this.#signerIndex(exposures) : undefined;
    const built = (components: ComponentIndex, rebuilt: boolean) => ({
      index: new FleetIndex(exposures, components, signers),
      rebuilt,
      sboms: components.size,
      ...(signers ? { signerRecords: signers.size } : {}),
    });
    const images = new Map<string, { repository?: string; tag?: string }>();
    for (const e of exposures) {
      if (e.digest && !images.has(e.digest)) {
        images.set(e.digest, {
          ...(e.repository ? { repository: e.repository } : {}),
          ...(e.tag ? { tag: e.tag } : {}),
        });
      }
    }
    const sourceVersion = await this.#ports.sboms.version();
    const key = `${imageSetFingerprint(exposures)}|${sourceVersion}`;
    let cache = this.#cache;
    if (cache?.key === key) return built(cache.components, false);
    if (!cache || cache.sourceVersion !== sourceVersion) {
      cache = { key, sourceVersion, components: new ComponentIndex(), looked: new Set() };
    }
    for (const digest of cache.looked) {
      if (images.has(digest)) continue;
      cache.looked.delete(digest);
      cache.components.remove(digest);
    }
    for (const [digest, ref] of images) {
      if (cache.looked.has(digest)) continue;
      cache.looked.add(digest);
      const found = await this.#ports.sboms.sbomFor({ digest, ...ref });
      if (found) cache.components.add(digest, found.sbom);
    }
    cache.key = key;
    this.#cache = cache;
    return built(cache.components, true);
  }

  /** Signer records of every digest that runs or ran: pipelined reads, one round trip per batch. */
  async #signerIndex(exposures: ReadonlyArray<{ digest?: string }>): Promise<SignerIndex> {
    const digests = [...new Set(exposures.flatMap((e) => (e.digest ? [e.digest] : [])))];
    const records = this.#ports.signers ? await this.#ports.signers.getMany(digests) : new Map();
    return new SignerIndex(records);
  }

  async rematch(now = new Date()): Promise<RematchOutcome> {
    const { store, config, log } = this.#ports;
    const advisories = await store.advisories(enabledFeeds(config));
    const { index, rebuilt, sboms, signerRecords } = await this.fleetIndex(now, {
      signers: advisories.some(namesSigner),
    });
    const matched: MatchedAdvisory[] = [];
    const summaries: MatchSummary[] = [];
    let findingsTotal = 0;
    for (const advisory of advisories) {
      const m = index.matchAdvisory(advisory);
      const total = m.total;
      const fingerprint = m.fingerprint(advisory.id);
      matched.push({
        advisory,
        fingerprint,
        total,
        findings: () => m.findings(),
        ...(m.signers ? { signers: m.signers } : {}),
      });
      // Nothing matched, but digests were never verified: the unknown is kept (and said) too.
      if (total === 0 && m.neverVerified === 0) continue;
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
      ...(signerRecords !== undefined ? { signerRecords } : {}),
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
    ...(m.signers ? { signers: m.signers } : {}),
    matchedAt: now.toISOString(),
  };
}

function namesSigner(a: Advisory): boolean {
  return !a.withdrawn && a.indicators.some((i) => i.kind === 'signer-identity');
}
