import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, type Logger as BoltLogger, HTTPReceiver, SocketModeReceiver } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { slackLogger } from './adapters/slack/logger.ts';
import { UsergroupResolver } from './adapters/slack/usergroups.ts';
import { requireSlackCredentials } from './config.ts';
import type { Container } from './container.ts';
import { ScopeError } from './errors.ts';
import { interactionSlack } from './handlers/actions/index.ts';
import { registerHandlers } from './handlers/index.ts';
import { RefusalRecorder } from './handlers/refusals.ts';
import { guardSlackRequests, unhandledRequestAuditor } from './handlers/request-guard.ts';
import { ActionInteractions } from './jobs/actions/interactions.ts';
import type { Logger } from './log.ts';
import { CancelFlags } from './store/jobs/cancel-flags.ts';

/** A running bot: the Bolt app, the port its HTTP receiver listens on (HTTP mode), and a graceful stop. */
export type RunningBot = { app: App; port?: number; stop: () => Promise<void> };

/** Adapts our pino logger to Bolt's logger interface so Bolt's own logs are structured and redacted too. */
export function boltLogger(log: Logger): BoltLogger {
  return slackLogger(log, 'bolt');
}

/**
 * Checks the bot token once at start. A rejected token stops the process with a clear message; an unreachable
 * Slack does not (the bot starts and Bolt retries identification on each request until Slack answers).
 */
async function identifyBot(
  token: string,
  clientOptions: { slackApiUrl?: string },
  log: Logger,
): Promise<{ botId?: string; botUserId?: string }> {
  const client = new WebClient(token, {
    ...clientOptions,
    logger: slackLogger(log, 'slack-web-api'),
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2000 },
    timeout: 5000,
  });
  try {
    const r = await client.auth.test();
    return { ...(r.bot_id ? { botId: r.bot_id } : {}), ...(r.user_id ? { botUserId: r.user_id } : {}) };
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    if (
      code === 'invalid_auth' ||
      code === 'not_authed' ||
      code === 'account_inactive' ||
      code === 'token_revoked'
    ) {
      throw new ScopeError(
        'CONFIG_INVALID',
        `Slack rejected the bot token (${code}): check slack.botToken / SCOPE_SLACK_BOT_TOKEN`,
      );
    }
    log.error({ err }, 'could not reach Slack to verify the bot token; starting anyway');
    return {};
  }
}

export async function startBot(
  c: Container,
  opts: { port?: number; host?: string } = {},
): Promise<RunningBot> {
  const { config, log } = c;
  requireSlackCredentials(config);
  const logger = boltLogger(log);
  const clientOptions = {
    ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
    retryConfig: { retries: 3, factor: 2, minTimeout: 200, maxTimeout: 5000 },
  };
  const identity = await identifyBot(config.slack.botToken as string, clientOptions, log);
  const common = {
    token: config.slack.botToken as string,
    logger,
    clientOptions,
    ignoreSelf: true,
    // Verified once above; with the ids known Bolt makes no auth.test call per request.
    tokenVerificationEnabled: false,
    ...identity,
  };
  const refusals = new RefusalRecorder(c.audit, log);
  let receiver: HTTPReceiver | SocketModeReceiver;
  if (config.slack.mode === 'socket') {
    // Bolt passes installerOptions.clientOptions to its SocketModeClient, so apps.connections.open goes to
    // slack.apiUrl too (a loopback stand-in in tests); no installer or custom route is configured.
    receiver = new SocketModeReceiver({
      appToken: config.slack.appToken as string,
      logger,
      ...(config.slack.apiUrl
        ? { installerOptions: { clientOptions: { slackApiUrl: config.slack.apiUrl } } }
        : {}),
    });
  } else {
    const endpoints = ['/slack/events', '/slack/commands', '/slack/actions'];
    receiver = new HTTPReceiver({
      signingSecret: config.slack.signingSecret as string,
      logger,
      endpoints,
      processBeforeResponse: false,
      unhandledRequestTimeoutMillis: 2800,
      unhandledRequestHandler: unhandledRequestAuditor(refusals),
      customRoutes: [
        { path: '/healthz', method: ['GET'], handler: (_req, res) => res.writeHead(200).end('ok\n') },
      ],
    });
    guardSlackRequests(receiver, {
      signingSecret: config.slack.signingSecret as string,
      endpoints,
      refusals,
    });
  }
  const app = new App({ ...common, receiver });
  app.error(async (err) => {
    log.error({ err }, 'unhandled error in a Slack listener');
  });
  const usergroups = new UsergroupResolver(app.client, c.redis, config.redis.prefix);
  const actions = new ActionInteractions({
    config,
    store: c.actions,
    queue: c.actionQueue,
    audit: c.audit,
    log: log.child({ component: 'actions' }),
    slack: interactionSlack(app.client),
    groupsOf: (user, groups) =>
      usergroups.groupsOf(user, groups, (group, err) =>
        log.warn({ err, group }, 'could not read an approver user group; it grants nothing'),
      ),
  });
  registerHandlers(app, {
    config,
    queue: c.commandQueue,
    queueConnection: c.commandConnection,
    refusals,
    audit: c.audit,
    metrics: c.metrics,
    log,
    cancelFlags: new CancelFlags(c.redis, config.redis.prefix),
    actions,
  });
  let port: number | undefined;
  let stopped = false;
  if (receiver instanceof HTTPReceiver) {
    const server = (await receiver.start({
      port: opts.port ?? config.slack.port,
      host: opts.host ?? config.slack.host,
    })) as Server;
    port = (server.address() as AddressInfo).port;
    log.info({ port, mode: 'http' }, 'bot listening for Slack requests');
  } else {
    await receiver.start();
    log.info({ mode: 'socket' }, 'bot connected to Slack over Socket Mode');
  }
  return {
    app,
    ...(port !== undefined ? { port } : {}),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      refusals.stop();
      await receiver.stop();
    },
  };
}
