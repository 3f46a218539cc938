import type { RequestContext } from '@kubernetes/client-node';

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

const MAX_AGE_MS = 5 * 60_000;

/**
 * One connection pool per cluster. client-node builds a fresh undici dispatcher for every request; reusing one
 * (renewed every 5 minutes) lets LIST pages and the steps of a plan share sockets.
 */
export class DispatcherPool {
  #current: { value: Dispatcher; at: number } | undefined;

  /** Swaps the request's fresh dispatcher for the pooled one (or makes the fresh one the pool). */
  reuse(ctx: RequestContext): void {
    const fresh = ctx.getDispatcher();
    if (fresh === undefined) return;
    const now = Date.now();
    const cached = this.#current;
    if (cached === undefined || now - cached.at > MAX_AGE_MS) {
      this.#current = { value: fresh, at: now };
      void cached?.value.close().catch(() => undefined);
      return;
    }
    ctx.setDispatcher(cached.value);
    void fresh.close().catch(() => undefined);
  }

  /** Drops the pool (after a reset connection, or on close); the next request starts a new one. */
  async drop(): Promise<void> {
    const d = this.#current;
    this.#current = undefined;
    await d?.value.close().catch(() => undefined);
  }
}
