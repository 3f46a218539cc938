import { describe, expect, it } from 'vitest';
import { cliSyntax } from '../../src/cli.ts';
import { parseCommand } from '../../src/domain/command.ts';
import { buildDigestReport, usesFromPods } from '../../src/domain/inventory/fleet-report.ts';
import { parseDigestQuery } from '../../src/domain/inventory/image-ref.ts';
import { containerRole, type PodRecord } from '../../src/domain/inventory/inventory.ts';
import { toPodRecord } from '../../src/domain/inventory/pod-record.ts';
import { showChar, stripInvisible, visible } from '../../src/domain/text.ts';
import type { UserFacingError } from '../../src/errors.ts';
import { errorReply } from '../../src/handlers/scope-command.ts';
import { resolveDigest } from '../../src/jobs/inventory-queries.ts';
import { code, md } from '../../src/render/message.ts';
import { present } from '../../src/render/present.ts';
import { toSlack } from '../../src/render/slack-blocks.ts';
import { toTerminal } from '../../src/render/terminal.ts';
import { MemoryInventory } from '../../src/store/inventory/memory-inventory.ts';

const HEX = '4b1e2c9d07aa5f3e8c61d2b0a9f47e15c3d8b6a2f0e9c7d5b4a3f2e1d0c9b8a7';
const DIGEST = `sha256:${HEX}`;
const NOW = new Date('2026-11-25T03:30:00Z');

describe('container roles', () => {
  const raw = {
    metadata: { namespace: 'payments', name: 'ledger-0', uid: 'u1', ownerReferences: [] },
    spec: {
      initContainers: [
        { name: 'migrate', image: 'registry.local/migrate:1' },
        { name: 'mesh-proxy', image: 'registry.local/proxy:1', restartPolicy: 'Always' },
      ],
      containers: [{ name: 'ledger', image: 'registry.local/ledger:7' }],
      ephemeralContainers: [
        { name: 'debugger-x7k2p', image: 'registry.local/api:1.4.2', targetContainerName: 'ledger' },
      ],
    },
    status: {
      ephemeralContainerStatuses: [
        {
          name: 'debugger-x7k2p',
          imageID: `registry.local/api@${DIGEST}`,
          state: { running: { startedAt: '2026-11-25T03:01:00Z' } },
        },
      ],
    },
  };

  it('records native sidecars and the target of ephemeral containers, compactly', () => {
    const rec = toPodRecord(raw, 'prod-eu', 'prod', new Map()) as PodRecord;
    const byName = Object.fromEntries(rec.containers.map((c) => [c.name, c]));
    expect(containerRole(byName.migrate as never)).toBe('init');
    expect(byName.migrate).not.toHaveProperty('sidecar');
    expect(byName['mesh-proxy']).toMatchObject({ type: 'init', sidecar: true });
    expect(containerRole(byName['mesh-proxy'] as never)).toBe('sidecar');
    expect(containerRole(byName.ledger as never)).toBe('app');
    expect(byName['debugger-x7k2p']).toMatchObject({
      type: 'ephemeral',
      target: 'ledger',
      startedAt: '2026-11-25T03:01:00Z',
      digest: DIGEST,
    });
    expect(byName.ledger).not.toHaveProperty('target');
  });

  it('says in the answer that only a debug container runs the image, where, on what and since when', () => {
    const rec = toPodRecord(raw, 'prod-eu', 'prod', new Map()) as PodRecord;
    const uses = usesFromPods([rec]);
    const use = uses.find((u) => u.digest === DIGEST);
    expect(use?.roles).toEqual({ 'debugger-x7k2p': 'ephemeral' });
    expect(use?.debug).toEqual([
      { pod: 'ledger-0', container: 'debugger-x7k2p', target: 'ledger', startedAt: '2026-11-25T03:01:00Z' },
    ]);
    const pods = [{ ...rec, containers: rec.containers.filter((c) => c.digest === DIGEST) }];
    const states = [
      { cluster: 'prod-eu', environment: 'prod', state: 'ok' as const, lastSuccessAt: NOW.toISOString() },
    ];
    const report = buildDigestReport(DIGEST, pods, [], states, NOW);
    const m = present({ kind: 'digest', report }, { commandText: '/scope digest x', now: NOW });
    const text = toTerminal(m);
    expect(text).toContain('Debug container only — payments/ledger-0 (pod)');
    expect(text).toContain(
      'ephemeral debug container debugger-x7k2p in pod ledger-0, attached to ledger, started 2026-11-25 03:01 UTC',
    );
    expect(JSON.stringify(toSlack(m))).toContain('*ephemeral debug container* `debugger-x7k2p`');
  });
});

describe('pasted digests', () => {
  it.each([
    [`docker-pullable://registry.local/api@${DIGEST}`, { kind: 'image' }],
    [`registry.local/api@sha256:${HEX.toUpperCase()}`, { kind: 'image', ref: { digest: DIGEST } }],
    [`sha256:${HEX.toUpperCase()}`, { kind: 'digest', digest: DIGEST }],
    [HEX.toUpperCase(), { kind: 'digest', digest: DIGEST }],
  ])('normalises %s', (input, expected) => {
    expect(parseDigestQuery(input)).toMatchObject(expected);
  });

  it('recognises docker://sha256:… as an image config id', () => {
    expect(parseDigestQuery(`docker://sha256:${HEX}`)).toEqual({ kind: 'config', configId: DIGEST });
    expect(parseDigestQuery(`DOCKER://${HEX}`)).toEqual({ kind: 'config', configId: DIGEST });
  });

  it('says when the id asked about is a config id', () => {
    const pod: PodRecord = {
      cluster: 'prod-eu',
      environment: 'prod',
      namespace: 'payments',
      name: 'api-1',
      uid: 'u',
      workload: { kind: 'Deployment', name: 'api' },
      containers: [
        { name: 'api', type: 'container', image: 'api:1', configId: DIGEST, imageID: `docker://${DIGEST}` },
      ],
    };
    const states = [
      { cluster: 'prod-eu', environment: 'prod', state: 'ok' as const, lastSuccessAt: NOW.toISOString() },
    ];
    const report = buildDigestReport(DIGEST, [pod], [], states, NOW, 'config');
    expect(report).toMatchObject({ idKind: 'config', totals: { pods: 1, workloads: 1 } });
    const text = toTerminal(present({ kind: 'digest', report }, { commandText: 'x', now: NOW }));
    expect(text).toContain('is an image config id');
    expect(text).toContain(`an image with config id ${DIGEST} is running in 1 cluster`);
  });
});

describe('invisible characters', () => {
  it('strips zero-width and bidi controls from arguments before parsing', () => {
    expect(parseCommand(`digest \u200Bsha256:${HEX}\u200D`)).toEqual({
      name: 'digest',
      query: { kind: 'digest', digest: DIGEST },
    });
    expect(parseCommand(`im\u2066age nginx:1.25\u202E`)).toMatchObject({ name: 'image' });
    expect(stripInvisible('a\uFEFFb\u200Fc')).toBe('abc');
  });

  it('shows a character an error is about visibly, never raw', () => {
    expect(showChar('\u200B')).toBe('U+200B');
    expect(showChar('g')).toBe('"g"');
    expect(showChar('\uFF47')).toBe('"\uFF47" (U+FF47)');
    expect(visible('a\u2028b')).toBe('a[U+2028]b');
    let err: unknown;
    try {
      parseCommand(`digest sha256:${HEX.slice(0, 63)}\uFFF9`);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toContain('U+FFF9 is not a hex digit');
    expect((err as Error).message).not.toContain('\uFFF9');
  });
});

describe('usage messages', () => {
  it('render commands as code in Slack, with no zero-width characters inside the backticks', () => {
    let err: UserFacingError | undefined;
    try {
      parseCommand('digest');
    } catch (e) {
      err = e as UserFacingError;
    }
    const slack = JSON.stringify(toSlack(errorReply(err as UserFacingError)));
    expect(slack).toContain('`/scope digest` needs one argument.');
    expect(slack).toContain('Usage: `/scope digest &lt;sha256:…|image@sha256:…&gt;`');
    expect(slack).not.toMatch(/\u200B/);
  });

  it('use CLI syntax in the terminal', () => {
    expect(cliSyntax('Use `/scope image nginx` or /scope status.')).toBe(
      'Use `scope cli image nginx` or scope cli status.',
    );
  });
});

describe('digest prefixes that match nothing', () => {
  it('do not claim "not in any cluster" when some clusters did not answer', async () => {
    const inv = new MemoryInventory(
      [],
      [
        {
          cluster: 'prod-eu',
          environment: 'prod',
          ok: true,
          pods: 0,
          startedAt: NOW.toISOString(),
          finishedAt: new Date().toISOString(),
        },
        {
          cluster: 'prod-ap',
          environment: 'prod',
          ok: false,
          pods: 0,
          startedAt: NOW.toISOString(),
          finishedAt: NOW.toISOString(),
          error: 'ECONNREFUSED',
        },
      ],
    );
    const err = await resolveDigest(inv, { kind: 'digest-prefix', prefix: '8e6b1234abcd' }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toContain('in the 1 cluster that answered; prod-ap did not answer');
    expect((err as Error).message).not.toContain('any cluster');
  });
});

describe('data from clusters', () => {
  it('shows bidi overrides and zero-width characters as U+XXXX in Slack and the terminal, never obeyed', () => {
    const m = {
      summary: 'x',
      blocks: [{ kind: 'section' as const, text: md`image ${code('evil\u202Egpj.exe')} ${'a\u200Bb'}` }],
    };
    const slack = JSON.stringify(toSlack(m));
    expect(slack).toContain('evil[U+202E]gpj.exe');
    expect(slack).toContain('a[U+200B]b');
    expect(slack).not.toMatch(/\u202E/);
    expect(toTerminal(m)).toBe('image evil[U+202E]gpj.exe a[U+200B]b');
  });
});
