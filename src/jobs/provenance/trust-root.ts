import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Provenance } from '../../adapters/provenance.ts';
import type { TufOptions } from '../../adapters/sigstore/trust.ts';
import { TufRefresher } from '../../adapters/sigstore/tuf-refresh.ts';
import type { ProvenanceConfig } from '../../domain/provenance/policy-config.ts';
import { DEFAULT_TUF_MIRROR, DEFAULT_TUF_REFRESH_HOURS } from '../../domain/provenance/policy-config.ts';
import type { Logger } from '../../log.ts';
import type { TrustRootStatus, TrustStatusStore } from '../../store/provenance/trust-status.ts';

/** The TUF client settings of a configuration (defaults filled in). */
export function tufOptions(cfg: ProvenanceConfig): TufOptions {
  return {
    mirrorUrl: (cfg.tufMirrorUrl ?? DEFAULT_TUF_MIRROR).replace(/\/+$/, ''),
    cacheDir: cfg.tufCacheDir ?? join(tmpdir(), 'scope-tuf'),
    ...(cfg.tufInitialRoot ? { initialRoot: cfg.tufInitialRoot } : {}),
  };
}

/**
 * In a worker: publishes the trusted root in use (heartbeat, so status shows live workers only) and, with
 * `tufRefresh`, refreshes it through TUF in the background — start-up and commands never wait for it; until a
 * refresh succeeds verification uses the root the worker started with (the shipped seed).
 */
export function startTrustRoot(deps: {
  provenance: Provenance;
  config: ProvenanceConfig;
  store: TrustStatusStore;
  log: Logger;
  worker?: string;
  heartbeatMs?: number;
  /** Tests: another TUF client setup (same checks, e.g. a shorter timeout). */
  tuf?: Partial<TufOptions>;
}): { refresher?: TufRefresher; publish: () => Promise<void>; stop: () => Promise<void> } {
  const { provenance, config, store } = deps;
  const log = deps.log.child({ component: 'trust-root' });
  const worker = deps.worker ?? `${hostname()}:${process.pid}`;
  const tuf = { ...tufOptions(config), ...deps.tuf };
  let refresher: TufRefresher | undefined;
  const status = (): TrustRootStatus => {
    const root = provenance.current().root;
    const r = refresher?.state() ?? {};
    return {
      worker,
      source: root.source,
      fingerprint: root.fingerprint,
      ...(root.path ? { path: root.path } : {}),
      ...(root.mirror ? { mirror: root.mirror } : {}),
      ...(root.refreshedAt ? { refreshedAt: root.refreshedAt } : {}),
      tufRefresh: config.tufRefresh,
      ...(r.lastAttemptAt ? { lastAttemptAt: r.lastAttemptAt } : {}),
      ...(r.lastError ? { lastError: r.lastError } : {}),
      ...(r.nextAttemptAt ? { nextAttemptAt: r.nextAttemptAt } : {}),
      reportedAt: new Date().toISOString(),
    };
  };
  let publishing = Promise.resolve();
  const publish = () => {
    publishing = publishing
      .then(() => store.put(status()))
      .catch((err: Error) => log.warn({ reason: err.message }, 'cannot publish the trusted root status'));
    return publishing;
  };
  if (config.tufRefresh) {
    refresher = new TufRefresher({
      tuf,
      periodMs: (config.tufRefreshHours ?? DEFAULT_TUF_REFRESH_HOURS) * 3600_000,
      apply: (root, at) => {
        const view = provenance.useRoot(root, {
          source: 'tuf',
          mirror: tuf.mirrorUrl,
          refreshedAt: at.toISOString(),
        });
        log.info({ fingerprint: view.root.fingerprint }, 'verifying with the refreshed trusted root');
      },
      onChange: () => void publish(),
      log,
    });
    refresher.start();
  }
  void publish();
  const heartbeat = setInterval(() => void publish(), deps.heartbeatMs ?? 60_000);
  heartbeat.unref();
  return {
    ...(refresher ? { refresher } : {}),
    publish,
    stop: async () => {
      clearInterval(heartbeat);
      await refresher?.stop();
      await publishing;
      await store.remove(worker).catch(() => undefined);
    },
  };
}
