import { WebClient } from '@slack/web-api';
import { FleetCollector } from './adapters/collector.ts';
import { SlackNotifier } from './adapters/slack-notifier.ts';
import type { Container } from './container.ts';
import { ScopeError } from './errors.ts';
import type { CommandPorts } from './jobs/run-command.ts';
import { buildStatus } from './jobs/status.ts';
import { startCommandWorker } from './worker.ts';

/** The ports every command job runs against, wired to the real stores and queues. */
export function commandPorts(c: Container): CommandPorts {
  return {
    status: () => buildStatus([c.commandQueue], c.syncStates),
    inventory: c.inventory,
  };
}

export function slackClient(c: Container): WebClient {
  const { slack } = c.config;
  if (!slack.botToken) {
    throw new ScopeError(
      'CONFIG_INVALID',
      'the worker posts results to Slack: set slack.botToken (env SCOPE_SLACK_BOT_TOKEN)',
    );
  }
  return new WebClient(slack.botToken, {
    ...(slack.apiUrl ? { slackApiUrl: slack.apiUrl } : {}),
    retryConfig: { retries: 4, factor: 2, minTimeout: 250, maxTimeout: 10_000 },
    timeout: 15_000,
  });
}

/** The long-running inventory collector (list + watch of every cluster); `ready` resolves once each cluster answered or failed once. */
export function startCollector(c: Container): { ready: Promise<void>; stop: () => Promise<void> } {
  if (c.config.clusters.length === 0) return { ready: Promise.resolve(), stop: async () => {} };
  const fleet = FleetCollector.fromConfig(c.config, c.inventory, c.log.child({ component: 'collector' }));
  fleet.start();
  const ready = (async () => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const states = await c.inventory.syncStates();
      if (states.every((s) => s.state !== 'never')) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return { ready, stop: () => fleet.stop() };
}

/** Starts everything a worker process runs; `stop()` drains it. */
export async function startWorkerProcess(c: Container): Promise<{ stop: () => Promise<void> }> {
  const notifier = new SlackNotifier(slackClient(c), c.redis, c.config.redis.prefix, c.log);
  const worker = startCommandWorker(c, { notifier, ports: commandPorts(c) });
  c.log.info({ concurrency: c.config.worker.concurrency }, 'command worker started');
  const collector = c.config.inventory.collect ? startCollector(c) : undefined;
  return {
    stop: async () => {
      await collector?.stop();
      await worker.close();
    },
  };
}
