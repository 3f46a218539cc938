import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  buildDigestReport,
  buildImageReport,
  buildWhereReport,
} from '../../src/domain/inventory/fleet-report.ts';
import type { ContainerRecord, PodRecord } from '../../src/domain/inventory/inventory.ts';
import type { CommandResult } from '../../src/jobs/run-command.ts';
import { type ClusterSyncState, clusterStatus, type StatusReport } from '../../src/jobs/status.ts';
import { INLINE_LIMIT } from '../../src/render/inventory/present-inventory.ts';
import { type PresentContext, present } from '../../src/render/present.ts';
import { toSlack } from '../../src/render/slack-blocks.ts';
import { toTerminal } from '../../src/render/terminal.ts';
import type { HistoryEntry } from '../../src/store/inventory/inventory-store.ts';
import { expectGolden } from '../support/golden.ts';

// 03:12 UTC: the hour these answers are read in.
const NOW = new Date('2026-11-25T03:12:00Z');
const REPO = 'registry.example.com/payments/api';
const digestOf = (seed: string) => `sha256:${createHash('sha256').update(seed).digest('hex')}`;
/** 2.14.1 as built and pushed first; the compromised build. */
const DA = digestOf('payments/api 2.14.1 first push');
/** 2.14.1 rebuilt and pushed again over the same tag. */
const DB = digestOf('payments/api 2.14.1 second push');
const DC = digestOf('payments/api latest dev-1');
const DD = digestOf('payments/api latest dev-2');
const DOLD = digestOf('payments/api 2.13.4');

const ctx = (commandText: string): PresentContext => ({
  requesterId: 'U024BE7LH',
  commandText,
  elapsedMs: 412,
  now: NOW,
});

const STATES: ClusterSyncState[] = [
  {
    cluster: 'prod-eu',
    environment: 'prod',
    state: 'ok',
    lastSuccessAt: '2026-11-25T03:05:12Z',
    lastAttemptAt: '2026-11-25T03:05:12Z',
    pods: 412,
  },
  {
    cluster: 'prod-us',
    environment: 'prod',
    state: 'error',
    lastSuccessAt: '2026-11-24T21:40:03Z',
    lastAttemptAt: '2026-11-25T03:10:00Z',
    lastError: 'connect ECONNREFUSED 10.20.0.1:443',
    pods: 388,
  },
  {
    cluster: 'stage-eu',
    environment: 'stage',
    state: 'ok',
    lastSuccessAt: '2026-11-25T03:02:40Z',
    lastAttemptAt: '2026-11-25T03:02:40Z',
    pods: 120,
  },
  {
    cluster: 'dev-1',
    environment: 'dev',
    state: 'ok',
    lastSuccessAt: '2026-11-25T02:58:01Z',
    lastAttemptAt: '2026-11-25T02:58:01Z',
    pods: 64,
  },
];

let podNo = 0;
function pod(
  cluster: string,
  environment: string,
  namespace: string,
  workload: PodRecord['workload'],
  node: string,
  containers: ContainerRecord[],
): PodRecord {
  podNo++;
  return {
    cluster,
    environment,
    namespace,
    name: `${workload.name}-6f9c8d7b5-${podNo.toString(36).padStart(5, 'x')}`,
    uid: `00000000-0000-4000-8000-${String(podNo).padStart(12, '0')}`,
    node,
    phase: 'Running',
    startTime: containers[0]?.startedAt ?? '2026-11-24T00:00:00Z',
    workload,
    containers,
  };
}

function api(digest: string | undefined, startedAt: string, tag = '2.14.1', name = 'api'): ContainerRecord {
  return {
    name,
    type: 'container',
    image: `${REPO}:${tag}`,
    repository: REPO,
    tag,
    ...(digest ? { digest, imageID: `${REPO}@${digest}` } : {}),
    startedAt,
  };
}

const deploy = (name: string) => ({ kind: 'Deployment', name });

/** Everything that runs DA now, as the index returns it for `/scope digest`. */
const DIGEST_PODS: PodRecord[] = [
  pod('dev-1', 'dev', 'payments-dev', deploy('api'), 'dev-node-3', [api(DA, '2026-11-19T09:12:44Z')]),
  pod('stage-eu', 'stage', 'payments', deploy('api'), 'ip-10-1-3-21', [api(DA, '2026-11-19T14:55:10Z')]),
  pod('prod-eu', 'prod', 'payments', deploy('api'), 'ip-10-0-1-12', [api(DA, '2026-11-24T22:41:07Z')]),
  pod('prod-eu', 'prod', 'payments', deploy('api'), 'ip-10-0-2-7', [api(DA, '2026-11-24T22:41:09Z')]),
  pod('prod-eu', 'prod', 'payments', deploy('api'), 'ip-10-0-2-7', [api(DA, '2026-11-24T22:43:30Z')]),
  pod('prod-eu', 'prod', 'payments', deploy('settlement-worker'), 'ip-10-0-1-40', [
    { ...api(DA, '2026-11-24T23:02:15Z', '', 'worker'), image: `${REPO}@${DA}`, tag: undefined },
  ]),
  pod('prod-us', 'prod', 'payments', deploy('api'), 'ip-10-8-0-5', [api(DA, '2026-11-24T20:15:00Z')]),
  pod('prod-us', 'prod', 'payments', deploy('api'), 'ip-10-8-1-9', [api(DA, '2026-11-24T20:15:02Z')]),
];

const DIGEST_HISTORY: HistoryEntry[] = [
  {
    // Earlier than any pod start in prod-eu now: the first deployment there.
    cluster: 'prod-eu',
    environment: 'prod',
    namespace: 'payments',
    workload: deploy('api'),
    digest: DA,
    image: `${REPO}:2.14.1`,
    firstSeen: '2026-11-20T14:03:00Z',
    running: true,
  },
  {
    // Ran only in the past.
    cluster: 'prod-eu',
    environment: 'prod',
    namespace: 'payments',
    workload: deploy('api-canary'),
    digest: DA,
    image: `${REPO}:2.14.1`,
    firstSeen: '2026-11-20T08:30:00Z',
    lastSeen: '2026-11-22T09:18:00Z',
    running: false,
  },
];

function digestResult(): CommandResult {
  return { kind: 'digest', report: buildDigestReport(DA, DIGEST_PODS, DIGEST_HISTORY, STATES, NOW) };
}

function imageResult(): CommandResult {
  const pods: PodRecord[] = [
    pod('prod-eu', 'prod', 'payments', deploy('api'), 'ip-10-0-1-12', [api(DA, '2026-11-24T22:41:07Z')]),
    pod('prod-eu', 'prod', 'payments', deploy('api'), 'ip-10-0-2-7', [api(DA, '2026-11-24T22:41:09Z')]),
    pod('prod-us', 'prod', 'payments', deploy('api'), 'ip-10-8-0-5', [api(DA, '2026-11-24T20:15:00Z')]),
    pod('stage-eu', 'stage', 'payments', deploy('api'), 'ip-10-1-3-21', [api(DB, '2026-11-23T11:02:00Z')]),
    pod('dev-1', 'dev', 'payments-dev', deploy('api'), 'dev-node-3', [
      api(DC, '2026-11-24T16:20:00Z', 'latest'),
    ]),
    pod('dev-1', 'dev', 'payments-dev', deploy('api-debug'), 'dev-node-1', [
      api(DD, '2026-11-25T01:05:00Z', 'latest'),
    ]),
    pod('dev-1', 'dev', 'payments-dev', deploy('api-next'), 'dev-node-1', [
      api(undefined, '2026-11-25T03:11:00Z', 'latest'),
    ]),
  ];
  const firstSeen = new Map([
    [DA, '2026-11-19T09:12:44Z'],
    [DB, '2026-11-23T11:02:00Z'],
    [DC, '2026-11-24T16:20:00Z'],
  ]);
  return { kind: 'image', report: buildImageReport(REPO, undefined, pods, firstSeen, STATES, NOW) };
}

function whereResult(): CommandResult {
  const pods: PodRecord[] = [
    pod('prod-eu', 'prod', 'payments', deploy('api'), 'ip-10-0-1-12', [api(DA, '2026-11-24T22:41:07Z')]),
    pod('prod-eu', 'prod', 'payments', deploy('api'), 'ip-10-0-2-7', [api(DA, '2026-11-24T22:41:09Z')]),
    pod('prod-eu', 'prod', 'payments', { kind: 'StatefulSet', name: 'ledger' }, 'ip-10-0-3-3', [
      {
        name: 'ledger',
        type: 'container',
        image: 'registry.example.com/payments/ledger:7.0.2',
        repository: 'registry.example.com/payments/ledger',
        tag: '7.0.2',
        digest: digestOf('ledger 7.0.2'),
        startedAt: '2026-11-02T10:00:00Z',
      },
      {
        name: 'mesh-proxy',
        type: 'init',
        sidecar: true,
        image: 'registry.example.com/mesh/proxy:1.22',
        repository: 'registry.example.com/mesh/proxy',
        tag: '1.22',
        digest: digestOf('mesh proxy 1.22'),
        startedAt: '2026-11-02T09:59:58Z',
      },
      {
        name: 'debugger-x7k2p',
        type: 'ephemeral',
        target: 'ledger',
        image: 'registry.local/api:1.4.2',
        repository: 'registry.local/api',
        tag: '1.4.2',
        digest: digestOf('bad debug image'),
        startedAt: '2026-11-25T03:01:00Z',
      },
    ]),
    pod('prod-eu', 'prod', 'payments', { kind: 'CronJob', name: 'ledger-export' }, 'ip-10-0-3-3', [
      {
        name: 'export',
        type: 'container',
        image: 'registry.example.com/payments/ledger-export:1.3',
        repository: 'registry.example.com/payments/ledger-export',
        tag: '1.3',
        configId: digestOf('ledger-export config'),
        startedAt: '2026-11-25T03:00:05Z',
      },
    ]),
  ];
  const history: HistoryEntry[] = [
    {
      cluster: 'prod-eu',
      environment: 'prod',
      namespace: 'payments',
      workload: deploy('api'),
      digest: DOLD,
      image: `${REPO}:2.13.4`,
      firstSeen: '2026-11-03T12:00:00Z',
      lastSeen: '2026-11-20T14:05:00Z',
      running: false,
    },
    DIGEST_HISTORY[1] as HistoryEntry,
  ];
  return {
    kind: 'where',
    report: buildWhereReport('prod-eu/payments', pods, history, [STATES[0] as ClusterSyncState], NOW),
  };
}

function statusResult(): CommandResult {
  const report: StatusReport = {
    queues: [
      { name: 'scope-commands', waiting: 0, active: 1, delayed: 0, failed: 2, completed: 148 },
      { name: 'scope-inventory', waiting: 3, active: 2, delayed: 1, failed: 0, completed: 5210 },
    ],
    workers: [
      { name: 'scope-worker-7c9f-1', queue: 'scope-commands', idleSeconds: 0, address: '10.0.5.10:41234' },
      { name: 'scope-worker-7c9f-2', queue: 'scope-inventory', idleSeconds: 12 },
    ],
    ...clusterStatus([STATES[0] as ClusterSyncState, STATES[1] as ClusterSyncState], NOW),
  };
  return { kind: 'status', report };
}

const slackText = (r: CommandResult, command: string) => JSON.stringify(toSlack(present(r, ctx(command))));

describe('golden renderings', () => {
  it('status', () => {
    expectGolden('status.slack.json', toSlack(present(statusResult(), ctx('/scope status'))));
  });

  it('digest', () => {
    const message = present(digestResult(), ctx(`/scope digest ${DA}`));
    expectGolden('digest.slack.json', toSlack(message));
    expectGolden('digest.terminal.txt', toTerminal(message));
  });

  it('image', () => {
    const message = present(imageResult(), ctx(`/scope image ${REPO}`));
    expectGolden('image.slack.json', toSlack(message));
    expectGolden('image.terminal.txt', toTerminal(message));
  });

  it('where', () => {
    const message = present(whereResult(), ctx('/scope where prod-eu/payments'));
    expectGolden('where.slack.json', toSlack(message));
    expectGolden('where.terminal.txt', toTerminal(message));
  });

  it('help', () => {
    expectGolden('help.slack.json', toSlack(present({ kind: 'help' }, ctx('/scope help'))));
    expectGolden(
      'help-digest.slack.json',
      toSlack(present({ kind: 'help', topic: 'digest' }, ctx('/scope help digest'))),
    );
  });
});

describe('digest answer', () => {
  const message = () => present(digestResult(), ctx(`/scope digest ${DA}`));

  it('lists production first, then stage, then dev', () => {
    const out = toTerminal(message());
    const at = (s: string) => out.indexOf(s);
    expect(at('\nPROD — ')).toBeGreaterThan(-1);
    expect(at('\nPROD — ')).toBeLessThan(at('\nSTAGE — '));
    expect(at('\nSTAGE — ')).toBeLessThan(at('\nDEV — '));
  });

  it('shows the full digest in a code span and the earliest deployment in UTC with its age', () => {
    const text = slackText(digestResult(), `/scope digest ${DA}`);
    expect(text).toContain(`\`${DA}\` is *running* in *4* clusters, 4 namespaces, 5 workloads, 8 pods.`);
    expect(text).toContain('*PROD* — earliest deployment 2026-11-20 08:30 UTC (4 d ago)');
  });

  it('says which workload ran only in the past', () => {
    expect(toTerminal(message())).toContain(
      'payments/api-canary (deployment) in prod-eu: no longer runs this image — ran 2026-11-20 08:30 UTC → last seen 2026-11-22 09:18 UTC (2 d ago)',
    );
  });

  it('warns that the unreachable cluster may be missing', () => {
    const out = toTerminal(message());
    expect(out).toContain('⚠️  Incomplete: these clusters may be missing from the answer');
    expect(out).toContain(
      'prod-us (prod) — unreachable (connect ECONNREFUSED 10.20.0.1:443), last good sync 2026-11-24 21:40 UTC (5 h ago)',
    );
  });

  it('summarises for notifications with a short digest', () => {
    expect(message().summary).toMatch(
      /^Partial: sha256:[0-9a-f]{4}…[0-9a-f]{4} runs in 4 clusters, 5 workloads, 8 pods$/,
    );
  });

  it('says when the digest is not running but ran before, and when it never ran', () => {
    const past = buildDigestReport(DA, [], [DIGEST_HISTORY[1] as HistoryEntry], STATES, NOW);
    expect(toTerminal(present({ kind: 'digest', report: past }, ctx('/scope digest x')))).toContain(
      `🔍 ${DA} is not running now, but ran in 1 workload earlier.`,
    );
    const never = buildDigestReport(DA, [], [], STATES.slice(0, 1), NOW);
    const m = present({ kind: 'digest', report: never }, ctx('/scope digest x'));
    expect(toTerminal(m)).toContain(
      `✅ ${DA} is not running in the one cluster and has not run within the look-back window.`,
    );
    expect(m.summary).toMatch(/is not running now$/);
  });

  it('shows the first workloads inline and attaches all of them as CSV beyond the limit', () => {
    const many = Array.from({ length: INLINE_LIMIT + 5 }, (_, i) =>
      pod('prod-eu', 'prod', `team-${String(i).padStart(2, '0')}`, deploy('api'), 'n1', [
        api(DA, '2026-11-24T00:00:00Z'),
      ]),
    );
    // A hostile workload name must not become a spreadsheet formula.
    many.push(
      pod('dev-1', 'dev', 'x', deploy('=HYPERLINK("http://evil")'), 'n1', [api(DA, '2026-11-24T00:00:00Z')]),
    );
    const m = present(
      { kind: 'digest', report: buildDigestReport(DA, many, [], STATES, NOW) },
      ctx(`/scope digest ${DA}`),
    );
    const out = toTerminal(m);
    expect(out.match(/ {2}• /g)).toHaveLength(INLINE_LIMIT + caveatLines(out));
    expect(out).toContain('…and 5 more in this environment (full list attached as CSV).');
    expect(out).toContain('…and 1 more in this environment (full list attached as CSV).');
    expect(m.attachments).toHaveLength(1);
    const csv = m.attachments?.[0]?.content.split('\n') ?? [];
    expect(csv[0]).toBe(
      'environment,cluster,namespace,kind,workload,digest,images,containers,pods,nodes,running,first_seen,last_seen,roles',
    );
    expect(csv).toHaveLength(INLINE_LIMIT + 7);
    expect(csv.at(-1)).toBe(
      `dev,dev-1,x,Deployment,"'=HYPERLINK(""http://evil"")",${DA},${REPO}:2.14.1,api,1,1,true,2026-11-24T00:00:00Z,,api=app`,
    );
    expect(m.attachments?.[0]?.filename).toBe(`scope-digest-${DA.slice(7, 19)}.csv`);
  });
});

function caveatLines(out: string): number {
  return out.split('\n').filter((l) => l.startsWith('  • ') && l.includes(' — unreachable')).length;
}

describe('image answer', () => {
  it('puts tag drift at the top, with the environments it differs between', () => {
    const m = present(imageResult(), ctx(`/scope image ${REPO}`));
    const slack = toSlack(m);
    expect(JSON.stringify(slack.blocks[0])).toContain('*Tag drift:*');
    const out = toTerminal(m);
    expect(out.indexOf('Tag drift')).toBeLessThan(out.indexOf('📦'));
    expect(out).toContain(`${REPO}:2.14.1 → 2 digests (prod: `);
    expect(out).toContain('— differs between environments');
    expect(out).toContain(`${REPO}:latest → 2 digests (dev: `);
    expect(m.summary).toBe(`Partial: Tag drift in ${REPO}: 2.14.1 → 2 digests, latest → 2 digests`);
  });

  it('mentions containers that reported no repo digest', () => {
    expect(toTerminal(present(imageResult(), ctx('/scope image x')))).toContain(
      '1 container of this image reported no repo digest',
    );
  });

  it('says when an image is not running anywhere', () => {
    const report = buildImageReport(REPO, '9.9.9', [], new Map(), STATES.slice(0, 1), NOW);
    const m = present({ kind: 'image', report }, ctx('/scope image x'));
    expect(toTerminal(m)).toContain(`✅ ${REPO}:9.9.9 is not running in the one cluster.`);
    expect(m.summary).toBe(`${REPO}:9.9.9 runs as 0 digests`);
  });
});

describe('status answer', () => {
  it('marks the failing cluster and shows its error', () => {
    const out = toTerminal(present(statusResult(), ctx('/scope status')));
    expect(out).toContain('🟢 prod-eu (prod) — last good sync 2026-11-25 03:05 UTC (6 min ago), 412 pods');
    expect(out).toContain(
      '🔴 prod-us (prod) — last good sync 2026-11-24 21:40 UTC (5 h ago), 388 pods — last error: connect ECONNREFUSED 10.20.0.1:443',
    );
  });

  it('says plainly when no worker is connected', () => {
    const r = statusResult();
    if (r.kind !== 'status') throw new Error('unreachable');
    const out = toTerminal(
      present({ kind: 'status', report: { ...r.report, workers: [] } }, ctx('/scope status')),
    );
    expect(out).toContain('Workers: none connected — jobs will wait until a worker starts.');
  });
});

describe('footer', () => {
  it('names the requester, the command and the time taken, and escapes the command', () => {
    const text = slackText({ kind: 'help', topic: 'digest' }, '/scope help');
    expect(text).not.toContain('Asked by');
    const status = toSlack(
      present(statusResult(), { ...ctx('/scope status <!channel>'), requesterId: 'U1<x>' }),
    );
    const footer = JSON.stringify(status.blocks.at(-1));
    expect(footer).toContain('Asked by <@U1> · `/scope status &lt;!channel&gt;` · answered in 0.41 s');
  });
});
