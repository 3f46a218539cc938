import { WebClient } from '@slack/web-api';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { SlackNotifier } from '../../src/adapters/slack/notifier.ts';
import { createLogger } from '../../src/log.ts';
import { presentHelp } from '../../src/render/present.ts';

// Opt-in: SCOPE_E2E_SLACK_BOT_TOKEN=xoxb-… SCOPE_E2E_SLACK_CHANNEL=C… ./run test test/e2e
// Posts one help message into the channel (the bot must be a member) and edits it in place.
const token = process.env.SCOPE_E2E_SLACK_BOT_TOKEN;
const channel = process.env.SCOPE_E2E_SLACK_CHANNEL;

describe.skipIf(!token || !channel)('delivery to a real Slack workspace (opt-in)', () => {
  it('posts a rendered result and updates the same message when delivered again', async () => {
    const redis = new Redis(inject('redisUrl'));
    try {
      const notifier = new SlackNotifier(
        new WebClient(token),
        redis,
        `{e2e-${Date.now()}}`,
        createLogger('warn', 'e2e'),
      );
      const key = `e2e-${Date.now()}`;
      const first = await notifier.deliver({ channelId: channel as string }, presentHelp(), key);
      const second = await notifier.deliver({ channelId: channel as string }, presentHelp('digest'), key);
      expect(first.ts).toBeTruthy();
      expect(second.ts).toBe(first.ts);
    } finally {
      await redis.quit();
    }
  });
});
