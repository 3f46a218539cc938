import type { StepRecord } from '../../domain/actions/contract.ts';
import type { ActionRequest } from '../../domain/actions/request.ts';
import type { DigestsStarted, PodRecord, StartObserver } from '../../domain/inventory/inventory.ts';
import {
  breaches,
  type QuarantineBreach,
  type QuarantineWatch,
  quarantineWatch,
} from '../../domain/provenance/quarantine-watch.ts';
import type { Logger } from '../../log.ts';

export type SentinelPorts = {
  /** The approval engine's store: active quarantine requests and their step logs. */
  requests: {
    active(kind: 'quarantine'): Promise<ActionRequest[]>;
    steps(requestId: string): Promise<Map<string, StepRecord>>;
  };
  /** Pods running a digest now (the catch-up scan when a quarantine is first seen). */
  inventory: { podsRunningDigest(digest: string): Promise<PodRecord[]> };
  /** Puts one breach on the alert queue; idempotent per pod (deterministic job id). */
  enqueue(breach: QuarantineBreach): Promise<void>;
  log: Logger;
  now?: () => Date;
};

/**
 * Runs beside the collector: knows the active quarantines (re-read every few seconds) and checks every pod the
 * collector writes with a digest it did not run before. A breach is queued *before* the collector stores the
 * pod, so a crash in between re-reports it and the deterministic job id keeps it to one alert.
 *
 * A quarantine this sentinel has not seen before (one that just took effect, or every active one when the
 * collector starts) is caught up by scanning the pods that run its digest now: a pod that started in the gap
 * between the quarantine taking effect and this sentinel learning of it is not missed.
 */
export class QuarantineSentinel {
  readonly #p: SentinelPorts;
  #byDigest = new Map<string, QuarantineWatch[]>();
  #known = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> | undefined;

  constructor(ports: SentinelPorts) {
    this.#p = ports;
  }

  /** Digests under watch now (status and tests). */
  get watched(): string[] {
    return [...this.#byDigest.keys()];
  }

  /** The observer to hand to the inventory writer. */
  readonly observer: StartObserver = (started) => {
    if (this.#byDigest.size === 0) return;
    const now = this.#now();
    const found: QuarantineBreach[] = [];
    for (const s of started)
      if (s.digests.some((d) => this.#byDigest.has(d))) found.push(...this.#check(s, now));
    if (found.length === 0) return;
    return this.#enqueueAll(found);
  };

  /** Loads the active quarantines, then re-reads them every `intervalMs` until `stop()`. */
  async start(intervalMs = 5000): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Re-reads the active quarantines; catches up on any not seen before. Never rejects (logs instead). */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    let requests: ActionRequest[];
    try {
      requests = await this.#p.requests.active('quarantine');
    } catch (err) {
      this.#p.log.warn({ err }, 'cannot read active quarantines; keeping the last known set');
      return;
    }
    const next = new Map<string, QuarantineWatch[]>();
    const fresh: QuarantineWatch[] = [];
    for (const r of requests) {
      try {
        const w = quarantineWatch(r, await this.#p.requests.steps(r.id));
        if (!w) continue;
        next.set(w.digest, [...(next.get(w.digest) ?? []), w]);
        if (!this.#known.has(w.requestId)) fresh.push(w);
      } catch (err) {
        this.#p.log.warn({ err, requestId: r.id }, 'cannot read a quarantine step log; retrying later');
        const old = [...this.#byDigest.values()].flat().find((x) => x.requestId === r.id);
        if (old) next.set(old.digest, [...(next.get(old.digest) ?? []), old]);
      }
    }
    this.#byDigest = next;
    for (const w of fresh) {
      try {
        await this.#catchUp(w);
        this.#known.add(w.requestId);
      } catch (err) {
        this.#p.log.warn({ err, requestId: w.requestId }, 'quarantine catch-up scan failed; retrying');
      }
    }
  }

  async #catchUp(w: QuarantineWatch): Promise<void> {
    const pods = await this.#p.inventory.podsRunningDigest(w.digest);
    const now = this.#now();
    const only = new Map([[w.digest, [w]]]);
    const found = pods.flatMap((pod) => breaches(pod, [w.digest], only, now));
    if (found.length > 0) await this.#enqueueAll(found);
  }

  #check(s: DigestsStarted, now: Date): QuarantineBreach[] {
    return breaches(s.pod, s.digests, this.#byDigest, now);
  }

  async #enqueueAll(found: readonly QuarantineBreach[]): Promise<void> {
    for (const b of found) {
      this.#p.log.warn(
        { requestId: b.requestId, cluster: b.cluster, namespace: b.namespace, pod: b.pod, digest: b.digest },
        'a quarantined digest started running',
      );
      await this.#p.enqueue(b);
    }
  }

  #now(): Date {
    return this.#p.now?.() ?? new Date();
  }
}
