import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { SlackNotifier } from '../src/adapters/slack/notifier.ts';
import { startBot } from '../src/bot.ts';
import { parseConfig } from '../src/config.ts';
import { buildContainer } from '../src/container.ts';
import { createLogger } from '../src/log.ts';
import { type FakeKube, startFakeKube } from '../src/testing/fake-kube.ts';
import type { FakeSlackMessage } from '../src/testing/fake-slack.ts';
import { slackSettingsFor, startFakeSlack } from '../src/testing/fake-slack.ts';
import { registerGitopsCrds } from '../src/testing/freeze-fixtures.ts';
import { type RedisServer, startRedisServer } from '../src/testing/redis-server.ts';
import { sendBlockActions, sendSlashCommand } from '../src/testing/slack-requests.ts';
import { startCommandWorker } from '../src/worker.ts';
import {
  actionButtons,
  commandPorts,
  slackClient,
  startActions,
  startCollector,
} from '../src/worker-process.ts';
import { demoAdvisoriesConfig, startDemoAdvisories } from './advisories.ts';
import { startDemoAws } from './audit.ts';
import { demoBreach } from './breach.ts';
import { AGENT_ODD, COMPROMISED, demoFleet, devRollout } from './fleet.ts';
import { approveAsSecondUser, completeReasonModal, demoActionsConfig, type FreezeDemo } from './freeze.ts';
import { demoAdmission } from './guardrails.ts';
import { type ConsoleButton, renderBlocks } from './render-blocks.ts';

const CHANNEL = 'C0DEMOINC';
const SECRET = 'demo-signing-secret-not-a-real-one';
const USER = 'U0ONCALL';

/**
 * The demo: real bot, worker, collector and Redis; a fake Slack and five fake clusters on loopback.
 * A console takes `/scope …` exactly as typed in Slack and prints what the incident channel would show.
 */
export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      script: { type: 'string' },
      'no-color': { type: 'boolean', default: false },
      verify: { type: 'boolean', default: false },
    },
  });
  const color = !values['no-color'] && process.stdout.isTTY === true && !process.env.NO_COLOR;
  const say = (s: string) => process.stdout.write(`${s}\n`);
  if (values.verify) return (await import('./verify.ts')).runVerifyDemo(say, color);
  const dim = (s: string) => (color ? `\u001b[2m${s}\u001b[22m` : s);
  const dir = await mkdtemp(join(tmpdir(), 'scope-demo-'));
  const cleanups: Array<() => Promise<unknown>> = [async () => rm(dir, { recursive: true, force: true })];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };

  say('scope demo — starting Redis, a fake Slack, five fake clusters, the bot, a worker and the collector…');
  let redis: RedisServer;
  try {
    redis = await startRedisServer();
  } catch (err) {
    say(`\nThe demo needs redis-server: ${(err as Error).message}`);
    say(
      'Install it with:  sudo apt-get install -y redis-server   (or brew install redis), then run ./run demo again.',
    );
    await cleanup();
    return 1;
  }
  cleanups.push(redis.stop);

  const fleet = demoFleet();
  const fakes = new Map<string, FakeKube>();
  const clusters = [];
  for (const c of fleet) {
    const fake = await startFakeKube({ name: c.name });
    registerGitopsCrds(fake);
    fake.load(c.objects);
    demoAdmission(fake, c.name);
    const kubeconfig = await fake.writeKubeconfig(dir);
    if (c.unreachable) await fake.close();
    else {
      fakes.set(c.name, fake);
      cleanups.push(() => fake.close());
    }
    clusters.push({
      name: c.name,
      environment: c.environment,
      kubeconfig,
      context: c.name,
      timeoutSeconds: 3,
    });
  }
  const slack = await startFakeSlack();
  slack.addChannel({ id: CHANNEL, name: 'inc-vendor-compromise' });
  cleanups.push(() => slack.close());

  const aws = await startDemoAws();
  cleanups.push(aws.stop);

  const logFile = join(dir, 'scope.log');
  const config = parseConfig({
    slack: slackSettingsFor(slack, SECRET),
    redis: { url: redis.url, prefix: '{scope-demo}' },
    clusters,
    aws: aws.config,
    access: { allowedChannels: [CHANNEL] },
    worker: { concurrency: 4, attempts: 3, backoffMs: 200 },
    actions: demoActionsConfig(),
    log: { level: 'info' },
    advisories: await demoAdvisoriesConfig(dir),
    audit: { hmacSecret: randomBytes(32).toString('hex'), witnessFile: join(dir, 'audit-witness.jsonl') },
  });
  const log = createLogger('info', 'demo', pino.destination({ dest: logFile, sync: false }));
  const c = buildContainer(config, 'demo', log);
  cleanups.push(() => c.close());
  const bot = await startBot(c, { port: 0, host: '127.0.0.1' });
  cleanups.push(bot.stop);
  const notifier = new SlackNotifier(slackClient(c), c.redis, config.redis.prefix, log, config.slack);
  const worker = startCommandWorker(c, { notifier, ports: commandPorts(c), decorate: actionButtons(c) });
  cleanups.push(worker.close);
  const actionWorker = startActions(c, notifier);
  cleanups.push(actionWorker.close);
  const collector = startCollector(c);
  cleanups.push(collector.stop);
  await collector.ready;

  const dev = fakes.get('dev-1');
  if (dev) {
    const r = devRollout();
    for (const p of r.remove) dev.remove('v1', 'Pod', p.namespace, p.name);
    for (const o of r.add) dev.upsert(o);
  }

  cleanups.push(await startDemoAdvisories(c));

  const endpoint = `http://127.0.0.1:${bot.port}/slack/commands`;
  const actionsEndpoint = `http://127.0.0.1:${bot.port}/slack/actions`;
  let buttons: ConsoleButton[] = [];
  let lastTs: string | undefined;
  const freezeDemo: FreezeDemo = {
    slack,
    actionsEndpoint,
    secret: SECRET,
    channel: CHANNEL,
    user: USER,
    say,
  };
  const show = (msg: FakeSlackMessage) => {
    lastTs = msg.ts;
    buttons = [];
    say('');
    say(`#inc-vendor-compromise  scope ${dim(`(${new Date().toISOString().slice(11, 19)} UTC)`)}`);
    say(renderBlocks(msg.blocks, color, buttons));
    say('');
  };

  say('');
  say(`Ready. You are @oncall in #inc-vendor-compromise. Logs: ${logFile}`);
  say('Type /scope commands exactly as in Slack, for example:');
  say(`  /scope digest ${COMPROMISED}`);
  say('  /scope image registry.example.com/vendor/agent:5.2');
  say(`  /scope digest ${AGENT_ODD.slice(0, 19)}`);
  say('  /scope where dev-1/payments/api');
  say('  /scope watch all     /scope advisories  (a vendor IOC list names the compromised digest)');
  for (const h of aws.hints) say(`  ${h}`);
  say('  /scope freeze prod-eu/payments   then: approve   (the second demo user approves)');
  say('  /scope guardrails    (does signature enforcement really block? prod-eu only audits)');
  say('  breach               (quarantine the digest, then a new prod-eu pod runs it anyway: the alert)');
  say('  /scope status        /scope help        (press N for a button, quit to stop)');
  say('');

  const runLine = async (line: string): Promise<boolean> => {
    const input = line.trim();
    if (!input) return true;
    if (input === 'quit' || input === 'exit') return false;
    if (!process.stdin.isTTY || values.script !== undefined) say(dim(`> ${input}`));
    if (input === 'breach') {
      await demoBreach(freezeDemo, c, fakes.get('prod-eu'), show);
      return true;
    }
    if (input === 'approve') {
      const card = await approveAsSecondUser(freezeDemo);
      if (card) show(card);
      return true;
    }
    const press = /^press\s+(\d+)$/.exec(input);
    if (press) {
      const viewsBefore = slack.views.length;
      const b = buttons[Number(press[1]) - 1];
      if (!b) {
        say('No such button on the last answer.');
        return true;
      }
      await sendBlockActions(actionsEndpoint, SECRET, {
        user: USER,
        channel: CHANNEL,
        ...(lastTs ? { message: { ts: lastTs } } : {}),
        actions: [{ action_id: b.action_id, value: b.value, type: 'button' }],
      } as Parameters<typeof sendBlockActions>[2]);
      const card = await completeReasonModal(freezeDemo, viewsBefore);
      if (card) show(card);
      return true;
    }
    const text = input.replace(/^\/scope\b\s*/, '');
    if (
      text === input &&
      !/^(digest|image|where|status|help|audit|freeze|frozen|guardrails|verify|log|advisories|advisory|watch|unwatch|diff)\b/.test(
        input,
      )
    ) {
      say('Commands start with /scope, e.g. /scope help');
      return true;
    }
    const before = slack.calls.length;
    const viewsBefore = slack.views.length;
    const res = await sendSlashCommand(endpoint, SECRET, {
      text,
      user_id: USER,
      user_name: 'oncall',
      channel_id: CHANNEL,
      response_url: slack.responseUrl(),
      trigger_id: `demo-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    });
    const ack = res.json as { blocks?: unknown[]; text?: string } | undefined;
    if (res.status !== 200) {
      say(`(bot answered HTTP ${res.status})`);
      return true;
    }
    if (ack?.blocks) say(dim(`[only you] ${renderBlocks(ack.blocks, false, []).replace(/\n/g, ' ')}`));
    if (/^freeze\b/.test(text)) {
      const card = await completeReasonModal(freezeDemo, viewsBefore);
      if (card) show(card);
      return true;
    }
    if (!ack?.text?.startsWith('Working on')) return true;
    const posted = await slack
      .waitFor(
        () =>
          slack.calls
            .slice(before)
            .find(
              (call) =>
                (call.method === 'chat.postMessage' || call.method === 'chat.update') && call.status === 200,
            ),
        20_000,
      )
      .catch(() => undefined);
    if (!posted) {
      say('(no answer within 20 s — see the log file)');
      return true;
    }
    const msg = slack.messages(CHANNEL).at(-1);
    if (!msg) return true;
    lastTs = msg.ts;
    buttons = [];
    say('');
    say(`#inc-vendor-compromise  scope ${dim(`(${new Date().toISOString().slice(11, 19)} UTC)`)}`);
    say(renderBlocks(msg.blocks, color, buttons));
    const uploads = slack.uploads.filter((u) => u.thread_ts === msg.ts);
    for (const u of uploads)
      say(dim(`📎 ${u.filename} (${u.text.split('\n').length - 1} rows) in the thread`));
    say('');
    return true;
  };

  try {
    if (values.script !== undefined) {
      for (const line of values.script.split(';')) if (!(await runLine(line))) break;
    } else {
      const rl = createInterface({
        input: process.stdin,
        output: process.stdout,
        terminal: process.stdin.isTTY === true,
      });
      if (process.stdin.isTTY) {
        rl.setPrompt('scope> ');
        rl.prompt();
      }
      for await (const line of rl) {
        if (!(await runLine(line))) break;
        if (process.stdin.isTTY) rl.prompt();
      }
      rl.close();
    }
  } finally {
    say('Stopping the demo…');
    await cleanup();
  }
  return 0;
}
