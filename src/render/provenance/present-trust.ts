import type { StatusReport } from '../../jobs/status.ts';
import type { TrustRootStatus } from '../../store/provenance/trust-status.ts';
import { type Block, bold, code, lit, md, type Text } from '../message.ts';
import { when } from '../time.ts';

/** Where a worker's trusted root came from, in words. */
export function describeTrustSource(t: TrustRootStatus, now: Date): Text {
  switch (t.source) {
    case 'shipped':
      return lit('public-good root shipped with scope (TUF seed)');
    case 'tuf':
      return md`public-good root from TUF ${code(t.mirror ?? '?')}, refreshed ${when(t.refreshedAt, now)}`;
    case 'file':
      return md`custom trusted root file ${code(t.path ?? '?')}`;
    case 'given':
      return lit('trusted root given in code (tests)');
  }
}

/** `/scope status`: the Sigstore trusted root each live worker verifies with, and its last refresh error. */
export function presentTrustStatus(report: StatusReport, now: Date): Block[] {
  const t = report.trustRoots;
  if (!t) return [];
  const unreadable =
    t.unreadable > 0
      ? md` (${t.unreadable} unreadable entr${t.unreadable === 1 ? 'y' : 'ies'} left out)`
      : lit('');
  if (t.workers.length === 0)
    return [
      {
        kind: 'section',
        text: md`*Trusted root:* unknown — no worker has reported the root it verifies with${unreadable}.`,
      },
    ];
  return [
    { kind: 'section', text: md`*Trusted root* (Sigstore, per worker)${unreadable}:` },
    {
      kind: 'list',
      items: t.workers.map((w) => {
        const icon = w.lastError ? '🟠' : '🔐';
        const refresh = w.tufRefresh
          ? w.lastError
            ? md` — last TUF refresh failed ${when(w.lastAttemptAt, now)}: ${w.lastError}; still using this root`
            : w.lastAttemptAt
              ? md` — last TUF refresh ${when(w.lastAttemptAt, now)}`
              : lit(' — TUF refresh pending')
          : lit('');
        return md`${icon} ${bold(w.worker)}: ${describeTrustSource(w, now)}, fingerprint ${code(w.fingerprint)}${refresh}`;
      }),
    },
  ];
}
