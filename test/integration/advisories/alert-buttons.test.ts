import { afterEach, describe, expect, it } from 'vitest';
import { advisoryButtons } from '../../../src/jobs/actions/offers.ts';
import { ACTION_IDS } from '../../../src/render/actions/present-request.ts';
import { VERIFY_DIGEST_ACTION } from '../../../src/render/provenance/present-verify.ts';
import { ActionStore } from '../../../src/store/actions/action-store.ts';
import { fakeDigest } from '../../../src/testing/kube-fixtures.ts';
import { testRedis } from '../../support/redis.ts';

/** Issue #11: an advisory alert carries Verify / Freeze deploys / Quarantine buttons. */

const BAD = fakeDigest('alert-buttons/bad');
const OTHER = fakeDigest('alert-buttons/other');
const quits: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const q of quits.splice(0)) await q();
});

function ctx() {
  const r = testRedis();
  const redis = r.connect();
  quits.push(() => redis.quit());
  const store = new ActionStore(redis, r.prefix);
  return { store, channelId: 'C0INCIDENT', userId: 'scope', now: new Date() };
}

const finding = (over: Partial<Parameters<typeof advisoryButtons>[1][number]> = {}) => ({
  environment: 'prod',
  cluster: 'prod-eu',
  namespace: 'payments',
  workload: 'Deployment/api',
  digest: BAD,
  state: 'current' as const,
  ...over,
});

describe('advisory alert buttons', () => {
  it('Verify signatures for the digest that runs now (where verification is configured), then Freeze, then Quarantine', async () => {
    const c = ctx();
    const buttons = await advisoryButtons(
      'IOC-1',
      [finding(), finding({ state: 'past', digest: OTHER })],
      c,
      {
        verify: true,
      },
    );
    expect(buttons.map((b) => b.label)).toEqual([
      'Verify signatures',
      'Freeze deploys in prod (1)',
      `Quarantine ${BAD.slice(7, 19)}`,
    ]);
    // Verify carries the digest (re-validated by its click handler); the others carry server-side offer ids.
    expect(buttons[0]).toMatchObject({ action: VERIFY_DIGEST_ACTION, value: BAD });
    const offer = await c.store.getOffer(buttons[2]?.value as string);
    expect(buttons[2]?.action).toBe(ACTION_IDS.offer);
    expect(offer?.input).toEqual({ digest: BAD, references: [] });
  });

  it('no Verify button where verification is not configured, nor for a digest that only ran before', async () => {
    const c = ctx();
    const without = await advisoryButtons('IOC-1', [finding()], c);
    expect(without.some((b) => b.action === VERIFY_DIGEST_ACTION)).toBe(false);
    const past = await advisoryButtons('IOC-1', [finding({ state: 'past' })], c, { verify: true });
    expect(past).toEqual([]);
  });

  it('two running digests: one Verify each, named', async () => {
    const c = ctx();
    const buttons = await advisoryButtons(
      'IOC-1',
      [finding(), finding({ digest: OTHER, workload: 'Deployment/web' })],
      c,
      {
        verify: true,
      },
    );
    expect(buttons.filter((b) => b.action === VERIFY_DIGEST_ACTION).map((b) => [b.label, b.value])).toEqual([
      [`Verify ${BAD.slice(7, 19)}`, BAD],
      [`Verify ${OTHER.slice(7, 19)}`, OTHER],
    ]);
  });
});
