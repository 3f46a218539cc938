/**
 * Paces requests to one rate-limited API partition (CloudTrail LookupEvents: 2 requests/s per account and
 * region). Requests are spaced evenly — at most one per 1/rate seconds, no bursts — so a server-side token
 * bucket of the same rate is never drained. When the server throttles anyway (another client shares the
 * account), `throttled()` pushes the next slot out by an exponential backoff with full jitter, and the first
 * success resets it. A dozen lines of arithmetic: no library (p-queue's fixed windows allow two requests back to
 * back at a window edge, and its pause/resume has no notion of backoff).
 */
export class PacedLimiter {
  readonly intervalMs: number;
  #next = 0;
  #strikes = 0;
  readonly #now: () => number;
  readonly #random: () => number;

  constructor(ratePerSecond: number, opts: { now?: () => number; random?: () => number } = {}) {
    if (!(ratePerSecond > 0)) throw new Error('rate must be positive');
    this.intervalMs = 1000 / ratePerSecond;
    this.#now = opts.now ?? Date.now;
    this.#random = opts.random ?? Math.random;
  }

  /** Reserves the next slot and returns how long to wait for it (ms); the slot is taken even if unused. */
  reserve(): number {
    const now = this.#now();
    const at = Math.max(now, this.#next);
    this.#next = at + this.intervalMs;
    return at - now;
  }

  /** Waits for the next slot; rejects with the signal's reason when aborted. */
  async acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const wait = this.reserve();
    if (wait > 0) await sleep(wait, signal);
  }

  /** The server throttled: back off (1 s, 2 s, 4 s… up to 30 s, jittered) before anyone's next request. */
  throttled(): number {
    const cap = Math.min(30_000, 1000 * 2 ** this.#strikes);
    this.#strikes += 1;
    const delay = Math.max(this.intervalMs, cap / 2 + this.#random() * (cap / 2));
    this.#next = Math.max(this.#next, this.#now() + delay);
    return delay;
  }

  succeeded(): void {
    this.#strikes = 0;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
