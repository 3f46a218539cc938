import { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlackAdvisoryPoster } from '../../../src/adapters/slack/advisory-poster.ts';
import type { Finding } from '../../../src/domain/advisories/match.ts';
import type { Advisory } from '../../../src/domain/advisories/model.ts';
import type { AdvisoryPoster } from '../../../src/domain/advisories/ports.ts';
import { reconcileNotifications } from '../../../src/jobs/advisories/notify.ts';
import { createLogger } from '../../../src/log.ts';
import { NotificationStore } from '../../../src/store/advisories/notification-store.ts';
import { startFakeSlack } from '../../../src/testing/fake-slack.ts';
import { testRedis } from '../../support/redis.ts';

const advisory: Advisory = {
  id: 'MAL-2025-7',
  source: 'osv',
  kind: 'osv',
  title: 'evil',
  severity: 'critical',
  references: [],
  aliases: [],
  packages: [],
  indicators: [],
  notes: [],
};
const finding: Finding = {
  environment: 'prod',
  cluster: 'prod-eu',
  namespace: 'pay',
  workload: 'Deployment/api',
  image: 'r/app:1',
  digest: `sha256:${'3'.repeat(64)}`,
  state: 'current',
  via: 'package',
  component: { name: 'evil', purl: 'pkg:npm/evil@1.0.0', version: '1.0.0' },
  certainty: 'affected',
};

/** A poster whose Slack keeps messages by metadata key; `crashAfterPost` dies after Slack accepted the post. */
function poster() {
  const posted = new Map<string, string>();
  const calls: string[] = [];
  let crashAfterPost = false;
  let historyReadable = true;
  const p: AdvisoryPoster = {
    async post(_channel, _message, key) {
      const ts = `${1000 + calls.length}.0001`;
      calls.push(`post ${key}`);
      posted.set(key, ts);
      if (crashAfterPost) throw new Error('worker died before recording the ts');
      return { ts };
    },
    async update(_c, ts) {
      calls.push(`update ${ts}`);
    },
    async reply(_c, ts) {
      calls.push(`reply ${ts}`);
    },
    async findPosted(_c, key) {
      return historyReadable ? posted.get(key) : undefined;
    },
  };
  return {
    p,
    calls,
    crash(v: boolean) {
      crashAfterPost = v;
    },
    history(v: boolean) {
      historyReadable = v;
    },
  };
}

describe('notification crash window (Slack accepted the post, the ts was not recorded)', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = testRedis().connect();
  });
  afterAll(async () => {
    await redis.quit();
  });
  const matched = { advisory, fingerprint: 'fp-1', total: 1, findings: () => [finding] };
  const sub = [{ channel: 'C0INC', feeds: 'all' as const, at: '2026-12-01T00:00:00Z' }];
  const log = createLogger('silent', 'test');

  it('the next attempt finds the message by its metadata key instead of posting again', async () => {
    const notes = new NotificationStore(redis, testRedis().prefix);
    const s = poster();
    s.crash(true);
    expect((await reconcileNotifications(sub, [matched], { poster: s.p, notes, log })).failed).toBe(1);
    expect((await notes.get('C0INC', advisory.id))?.state).toBe('posting');
    s.crash(false);
    await reconcileNotifications(sub, [matched], { poster: s.p, notes, log });
    expect(s.calls).toEqual(['post C0INC:MAL-2025-7', 'update 1000.0001']);
    expect(await notes.get('C0INC', advisory.id)).toMatchObject({ state: 'posted', ts: '1000.0001' });
  });

  it('without a readable history it posts again (the one duplicate scope cannot rule out)', async () => {
    const notes = new NotificationStore(redis, testRedis().prefix);
    const s = poster();
    s.crash(true);
    s.history(false);
    expect((await reconcileNotifications(sub, [matched], { poster: s.p, notes, log })).failed).toBe(1);
    s.crash(false);
    await reconcileNotifications(sub, [matched], { poster: s.p, notes, log });
    expect(s.calls.filter((c) => c.startsWith('post'))).toHaveLength(2);
  });

  it('a claim held by another worker defers the notification instead of racing it', async () => {
    const prefix = testRedis().prefix;
    const notes = new NotificationStore(redis, prefix);
    const s = poster();
    const held = await notes.claim('C0INC', advisory.id, 10_000);
    expect(held).toBeDefined();
    const r = await reconcileNotifications(sub, [matched], {
      poster: s.p,
      notes,
      log,
    });
    expect(r.skipped).toBe(1);
    expect(s.calls).toEqual([]);
    await notes.release('C0INC', advisory.id, held as string);
    await reconcileNotifications(sub, [matched], { poster: s.p, notes, log });
    expect(s.calls).toEqual(['post C0INC:MAL-2025-7']);
  });
});

describe('SlackAdvisoryPoster against the fake Slack', () => {
  it('finds a post by its metadata key in the channel history (crash recovery), and nothing for another key', async () => {
    const slack = await startFakeSlack();
    slack.addChannel({ id: 'C0INC', name: 'inc' });
    try {
      const poster = new SlackAdvisoryPoster(new WebClient(slack.botToken, { slackApiUrl: slack.apiUrl }));
      const msg = { summary: 'Advisory MAL-2025-7', blocks: [] };
      const { ts } = await poster.post('C0INC', msg, 'C0INC:MAL-2025-7');
      await poster.post('C0INC', msg, 'C0INC:MAL-2025-8');
      expect(await poster.findPosted('C0INC', 'C0INC:MAL-2025-7')).toBe(ts);
      expect(await poster.findPosted('C0INC', 'C0INC:MAL-2025-9')).toBeUndefined();
    } finally {
      await slack.close();
    }
  });
});
