import { describe, expect, test } from 'vitest';
import type { StatusReport } from '../../src/jobs/status.ts';
import { present } from '../../src/render/present.ts';
import { toTerminal } from '../../src/render/terminal.ts';

const now = new Date('2026-01-02T00:00:00Z');
const base: StatusReport = {
  queues: [],
  workers: [],
  clusters: [],
  generatedAt: now.toISOString(),
  completeness: 'unknown',
  clustersAnswered: 0,
  clustersTotal: 0,
  caveats: [],
} as unknown as StatusReport;
const render = (trustRoots?: StatusReport['trustRoots']) =>
  toTerminal(
    present(
      { kind: 'status', report: { ...base, ...(trustRoots ? { trustRoots } : {}) } },
      { commandText: '/scope status', now },
    ),
  );

describe('/scope status: trusted root', () => {
  test('a failed TUF refresh shows the error and that the root in use is kept', () => {
    const text = render({
      unreadable: 0,
      workers: [
        {
          worker: 'host:1',
          source: 'shipped',
          fingerprint: '0123456789abcdef',
          tufRefresh: true,
          lastAttemptAt: '2026-01-01T23:00:00Z',
          lastError: 'timestamp was signed by 0/1 keys',
          reportedAt: now.toISOString(),
        },
      ],
    });
    expect(text).toContain(
      'host:1: public-good root shipped with scope (TUF seed), fingerprint 0123456789abcdef — last TUF refresh failed 2026-01-01 23:00 UTC (1 h ago): timestamp was signed by 0/1 keys; still using this root',
    );
  });

  test('a custom root file is named with its path', () => {
    const text = render({
      unreadable: 0,
      workers: [
        {
          worker: 'host:3',
          source: 'file',
          path: '/etc/scope/trusted_root.json',
          fingerprint: 'bbbbbbbbbbbbbbbb',
          tufRefresh: false,
          reportedAt: now.toISOString(),
        },
      ],
    });
    expect(text).toContain(
      'host:3: custom trusted root file /etc/scope/trusted_root.json, fingerprint bbbbbbbbbbbbbbbb',
    );
  });

  test('no worker reported: unknown, not a default', () => {
    expect(render({ unreadable: 2, workers: [] })).toContain(
      'Trusted root: unknown — no worker has reported the root it verifies with (2 unreadable entries left out).',
    );
    expect(render()).not.toContain('Trusted root');
  });
});
