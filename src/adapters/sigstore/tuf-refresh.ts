import type { TrustedRoot } from '@sigstore/protobuf-specs';
import type { Logger } from '../../log.ts';
import { fetchTufRoot, type TufOptions } from './trust.ts';

/** What the last refresh did, for `/scope status`. */
export type TufRefreshState = {
  lastAttemptAt?: string;
  lastSuccessAt?: string;
  lastError?: string;
  nextAttemptAt?: string;
};

const FIRST_RETRY_MS = 5 * 60_000;

/**
 * Keeps the public-good trusted root current through TUF: one attempt at `start()` (in the background, never
 * awaited by start-up), then every `periodMs`; after a failure sooner (5 min, doubling, at most the period).
 * A successful fetch goes to `apply` (which swaps the verifiers); a failed one keeps the root in use, is logged
 * as a warning and kept in `state()` until the next success.
 */
export class TufRefresher {
  readonly #tuf: TufOptions;
  readonly #periodMs: number;
  readonly #apply: (root: TrustedRoot, fetchedAt: Date) => void;
  readonly #onChange: () => void;
  readonly #log: Logger;
  readonly #fetch: (o: TufOptions) => Promise<TrustedRoot>;
  #state: TufRefreshState = {};
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<boolean> | undefined;
  #stopped = false;

  constructor(o: {
    tuf: TufOptions;
    periodMs: number;
    apply: (root: TrustedRoot, fetchedAt: Date) => void;
    onChange?: () => void;
    log: Logger;
    fetch?: (o: TufOptions) => Promise<TrustedRoot>;
  }) {
    this.#tuf = o.tuf;
    this.#periodMs = o.periodMs;
    this.#apply = o.apply;
    this.#onChange = o.onChange ?? (() => {});
    this.#log = o.log;
    this.#fetch = o.fetch ?? fetchTufRoot;
  }

  state(): TufRefreshState {
    return { ...this.#state };
  }

  /** One refresh (joins one in flight); true when a root was fetched and applied. Never throws. */
  refresh(): Promise<boolean> {
    this.#running ??= this.#attempt().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #attempt(): Promise<boolean> {
    const at = new Date();
    this.#state = { ...this.#state, lastAttemptAt: at.toISOString() };
    try {
      const root = await this.#fetch(this.#tuf);
      this.#apply(root, at);
      this.#failures = 0;
      const { lastError: _gone, ...rest } = this.#state;
      this.#state = { ...rest, lastSuccessAt: at.toISOString() };
      this.#log.info({ mirror: this.#tuf.mirrorUrl }, 'trusted root refreshed through TUF');
      return true;
    } catch (err) {
      this.#failures++;
      const reason = describeError(err);
      this.#state = { ...this.#state, lastError: reason };
      this.#log.warn(
        { mirror: this.#tuf.mirrorUrl, reason },
        'TUF refresh of the trusted root failed; keeping the root in use',
      );
      return false;
    } finally {
      this.#onChange();
    }
  }

  /** First refresh now, in the background; then on schedule until `stop()`. */
  start(): void {
    const loop = async () => {
      await this.refresh();
      if (this.#stopped) return;
      const delay =
        this.#failures === 0
          ? this.#periodMs
          : Math.min(this.#periodMs, FIRST_RETRY_MS * 2 ** Math.min(this.#failures - 1, 10));
      this.#state = { ...this.#state, nextAttemptAt: new Date(Date.now() + delay).toISOString() };
      this.#onChange();
      this.#timer = setTimeout(() => void loop(), delay);
      this.#timer.unref();
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
  }
}

/** The error and its causes in one line (tuf-js wraps the useful part), no stack, bounded. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const m = e instanceof Error ? e.message : String(e);
    if (m && !parts.includes(m)) parts.push(m);
    e = e instanceof Error ? (e as Error & { cause?: unknown }).cause : undefined;
  }
  return (parts.join(': ') || 'unknown error').slice(0, 500);
}
