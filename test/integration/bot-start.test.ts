import { describe, expect, it } from 'vitest';
import { startBot } from '../../src/bot.ts';
import { buildContainer } from '../../src/container.ts';
import { createLogger } from '../../src/log.ts';
import { startFakeSlack } from '../../src/testing/fake-slack.ts';
import { testConfig } from '../support/scope-harness.ts';

describe('bot start-up', () => {
  it('stops with a clear configuration error when Slack rejects the bot token', async () => {
    const slack = await startFakeSlack();
    const config = testConfig(slack);
    const c = buildContainer(
      { ...config, slack: { ...config.slack, botToken: 'xoxb-not-the-right-one' } },
      'bot',
      createLogger('silent', 't'),
    );
    try {
      await expect(startBot(c, { port: 0, host: '127.0.0.1' })).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('invalid_auth'),
      });
    } finally {
      await c.close();
      await slack.close();
    }
  });

  it('starts anyway when Slack cannot be reached, and verifies the token only once when it can', async () => {
    const slack = await startFakeSlack();
    const config = testConfig(slack);
    const down = buildContainer(
      { ...config, slack: { ...config.slack, apiUrl: 'http://127.0.0.1:9/api/' } },
      'bot',
      createLogger('silent', 't'),
    );
    const bot = await startBot(down, { port: 0, host: '127.0.0.1' });
    expect(bot.port).toBeGreaterThan(0);
    await bot.stop();
    await down.close();

    const up = buildContainer(config, 'bot', createLogger('silent', 't'));
    const bot2 = await startBot(up, { port: 0, host: '127.0.0.1' });
    expect(slack.callsTo('auth.test')).toHaveLength(1);
    await bot2.stop();
    await up.close();
    await slack.close();
  });
});
