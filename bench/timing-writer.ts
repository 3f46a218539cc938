/**
 * An InventoryWriter wrapper for the benchmark: times each cluster's re-list (begin → pages → sweep) and
 * keeps what the store reported (pods written, unchanged, removed), relative to a start time `t0()`.
 */
import type {
  ClusterRelist,
  ClusterSync,
  InventoryWriter,
  PodRecord,
  RelistResult,
} from '../src/domain/inventory/inventory.ts';

export type RelistTiming = {
  cluster: string;
  startMs: number;
  /** When the last page was written (the LIST is done, the sweep starts). */
  listedMs: number;
  endMs: number;
  pages: number;
  /** Time spent inside writePage, summed over the pages. */
  pageWriteMs: number;
  sweepMs: number;
} & RelistResult;

export class TimingWriter implements InventoryWriter {
  readonly relists: RelistTiming[] = [];
  readonly #inner: InventoryWriter;
  readonly #t0: () => number;

  constructor(inner: InventoryWriter, t0: () => number) {
    this.#inner = inner;
    this.#t0 = t0;
  }

  beginRelist(cluster: string, environment: string): ClusterRelist {
    const inner = this.#inner.beginRelist(cluster, environment);
    const startMs = performance.now() - this.#t0();
    let pages = 0;
    let pageWriteMs = 0;
    return {
      writePage: async (pods, at) => {
        const s = performance.now();
        await inner.writePage(pods, at);
        pageWriteMs += performance.now() - s;
        pages += 1;
      },
      finish: async (at) => {
        const listedMs = performance.now() - this.#t0();
        const r = await inner.finish(at);
        const endMs = performance.now() - this.#t0();
        this.relists.push({
          cluster,
          startMs,
          listedMs,
          endMs,
          pages,
          pageWriteMs,
          sweepMs: endMs - listedMs,
          ...r,
        });
        return r;
      },
    };
  }

  upsertPod(pod: PodRecord, at: Date) {
    return this.#inner.upsertPod(pod, at);
  }

  removePod(cluster: string, namespace: string, name: string, at: Date) {
    return this.#inner.removePod(cluster, namespace, name, at);
  }

  recordSync(sync: ClusterSync) {
    return this.#inner.recordSync(sync);
  }
}

/** Writes a cluster's pods through a re-list, `pageSize` at a time (the replay of the write path alone). */
export async function writeCluster(
  writer: InventoryWriter,
  cluster: string,
  environment: string,
  pods: readonly PodRecord[],
  at: Date,
  pageSize: number,
): Promise<RelistResult> {
  const relist = writer.beginRelist(cluster, environment);
  for (let i = 0; i < pods.length; i += pageSize) await relist.writePage(pods.slice(i, i + pageSize), at);
  return relist.finish(at);
}
