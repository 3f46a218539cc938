import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { type RunningBot, startBot } from '../../src/bot.ts';
import { type Config, parseConfig } from '../../src/config.ts';
import { buildContainer, type Container } from '../../src/container.ts';
import type { RunningActionWorker } from '../../src/jobs/actions/worker.ts';
import { createLogger } from '../../src/log.ts';
import { type FakeSlack, slackSettingsFor, startFakeSlack } from '../../src/testing/fake-slack.ts';
import { type RunningWorker, startCommandWorker } from '../../src/worker.ts';
import { actionButtons, commandPorts, slackNotifier, startActions } from '../../src/worker-process.ts';

export const SIGNING_SECRET = 'test-signing-secret-0123456789';

/** A whole scope (bot + worker) wired to real Redis and a fake Slack, each test with its own key prefix. */
export type ScopeHarness = {
  slack: FakeSlack;
  config: Config;
  container: Container;
  bot: RunningBot;
  worker?: RunningWorker;
  /** The bot's Slack endpoint for slash commands and interactions. */
  endpoint: string;
  startWorker: () => RunningWorker;
  /** Every log line (JSON) of the bot and workers, at info level and above. */
  logs: string[];
  close: () => Promise<void>;
};

export function testConfig(slack: FakeSlack, overrides: Record<string, unknown> = {}): Config {
  const prefix = `{t${randomUUID().slice(0, 8)}}`;
  return parseConfig({
    slack: slackSettingsFor(slack, SIGNING_SECRET),
    redis: { url: inject('redisUrl'), prefix },
    worker: { concurrency: 2, attempts: 3, backoffMs: 50, lockDurationMs: 2000, stalledIntervalMs: 1000 },
    access: { allowedChannels: ['C0INCIDENT', 'C0OTHER'] },
    log: { level: process.env.SCOPE_TEST_LOG_LEVEL ?? 'silent' },
    audit: { hmacSecret: 'test-audit-hmac-key-0123456789abcdef0123456789' },
    ...overrides,
  });
}

export async function startScope(
  opts: { overrides?: Record<string, unknown>; worker?: boolean; allowLoopback?: boolean } = {},
): Promise<ScopeHarness> {
  const slack = await startFakeSlack();
  slack.addChannel({ id: 'C0INCIDENT', name: 'inc-2026-11-25' });
  const config = testConfig(slack, {
    ...(opts.allowLoopback === false
      ? { slack: { ...slackSettingsFor(slack, SIGNING_SECRET), allowLoopback: false } }
      : {}),
    ...opts.overrides,
  });
  const logs: string[] = [];
  const echo = process.env.SCOPE_TEST_LOG_LEVEL !== undefined;
  const logger = createLogger('info', 'test', {
    write: (line: string) => {
      logs.push(line);
      if (echo) process.stderr.write(line);
    },
  });
  const container = buildContainer(config, 'bot', logger);
  const bot = await startBot(container, { port: 0, host: '127.0.0.1' });
  const workers: Array<RunningWorker | RunningActionWorker> = [];
  const startWorker = () => {
    const notifier = slackNotifier(container);
    const w = startCommandWorker(container, {
      notifier,
      ports: commandPorts(container),
      decorate: actionButtons(container),
    });
    workers.push(w, startActions(container, notifier));
    return w;
  };
  const worker = opts.worker === false ? undefined : startWorker();
  return {
    slack,
    config,
    container,
    bot,
    ...(worker ? { worker } : {}),
    endpoint: `http://127.0.0.1:${bot.port}/slack/commands`,
    startWorker,
    logs,
    close: async () => {
      for (const w of workers) await w.close();
      await bot.stop();
      await container.close();
      await slack.close();
    },
  };
}
