/**
 * Freeze benchmark (`npm run bench:freeze`): after approval, freeze N workloads spread over C fake clusters.
 * 20 fake Kubernetes API servers (plain HTTP, in this process: pessimistic, they share its event loop), a real
 * redis-server, a fake Slack; the engine runs the stored plan exactly as the worker does (step log, audit
 * entry per step, card updates). Measured: plan time, and execute time from the approval to the last record.
 * Knobs: SCOPE_BENCH_FREEZE_CLUSTERS [20], SCOPE_BENCH_FREEZE_WORKLOADS [500], SCOPE_BENCH_FREEZE_PARALLELISM [32].
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebClient } from '@slack/web-api';
import { registerFreeze } from '../src/adapters/kubernetes/freeze/index.ts';
import { SlackNotifier } from '../src/adapters/slack/notifier.ts';
import { parseConfig } from '../src/config.ts';
import { buildContainer } from '../src/container.ts';
import { approvalPolicy } from '../src/domain/actions/approval.ts';
import { approve } from '../src/domain/actions/request.ts';
import { ActionEngine } from '../src/jobs/actions/engine.ts';
import { ActionRegistry } from '../src/jobs/actions/registry.ts';
import { createLogger } from '../src/log.ts';
import { ActionStore } from '../src/store/actions/action-store.ts';
import { type FakeKube, startFakeKube } from '../src/testing/fake-kube.ts';
import { startFakeSlack } from '../src/testing/fake-slack.ts';
import { deployment, registerGitopsCrds } from '../src/testing/freeze-fixtures.ts';
import { startRedisServer } from '../src/testing/redis-server.ts';

const CLUSTERS = Number(process.env.SCOPE_BENCH_FREEZE_CLUSTERS ?? 20);
const WORKLOADS = Number(process.env.SCOPE_BENCH_FREEZE_WORKLOADS ?? 500);
const PARALLELISM = Number(process.env.SCOPE_BENCH_FREEZE_PARALLELISM ?? 32);

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'scope-bench-freeze-'));
  const redis = await startRedisServer();
  const slack = await startFakeSlack();
  slack.addChannel({ id: 'C0BENCH', name: 'bench' });
  const fakes: FakeKube[] = [];
  const clusters = [];
  try {
    for (let c = 0; c < CLUSTERS; c++) {
      const name = `bench-${String(c).padStart(2, '0')}`;
      const fake = await startFakeKube({ name, tls: false, requestLogLimit: 100 });
      registerGitopsCrds(fake);
      const per = Math.floor(WORKLOADS / CLUSTERS) + (c < WORKLOADS % CLUSTERS ? 1 : 0);
      fake.load(
        Array.from({ length: per }, (_, i) => deployment('apps', `svc-${String(i).padStart(3, '0')}`)),
      );
      fakes.push(fake);
      clusters.push({
        name,
        environment: c % 2 ? 'prod' : 'staging',
        kubeconfig: await fake.writeKubeconfig(dir),
        context: name,
      });
    }
    const config = parseConfig({
      slack: { botToken: slack.botToken, apiUrl: slack.apiUrl },
      redis: { url: redis.url, prefix: '{bench}' },
      clusters,
      actions: { parallelism: PARALLELISM, approvers: [{ users: ['U0APPROVER'] }] },
      log: { level: 'silent' },
    });
    const c = buildContainer(config, 'worker', createLogger('silent', 'bench'));
    const registry = new ActionRegistry();
    registerFreeze(registry, config);
    const notifier = new SlackNotifier(
      new WebClient(slack.botToken, { slackApiUrl: slack.apiUrl }),
      c.redis,
      '{bench}',
      c.log,
    );
    const engine = new ActionEngine({
      store: c.actions,
      registry,
      queue: c.actionQueue,
      notifier,
      audit: c.audit,
      actions: { ...config.actions, recheckSeconds: 3600 },
      defaultApprovers: config.access.approvers,
      log: c.log,
    });
    const offer = await c.actions.saveOffer({
      kind: 'freeze',
      input: { selectors: clusters.map((k) => ({ cluster: k.name, namespace: 'apps' })) },
      label: 'bench',
      channelId: 'C0BENCH',
      createdBy: 'U0REQUESTER',
      createdAt: new Date().toISOString(),
    });
    const id = ActionStore.newId();
    const signal = new AbortController().signal;
    const t0 = performance.now();
    await engine.run(
      { type: 'plan', requestId: id, offerId: offer.id, requestedBy: 'U0REQUESTER', reason: 'bench' },
      signal,
    );
    const planMs = performance.now() - t0;
    const req = await c.actions.getRequest(id);
    if (!req) throw new Error('no request');
    const policy = approvalPolicy(config.actions, config.access.approvers, 'freeze', req.plan.environments);
    await c.actions.transition(id, (r) =>
      approve(r, { userId: 'U0APPROVER', usergroups: [] }, policy, new Date()),
    );
    const cpu0 = process.cpuUsage();
    const t1 = performance.now();
    const outcome = await engine.run({ type: 'execute', requestId: id }, signal);
    const execMs = performance.now() - t1;
    const cpu = process.cpuUsage(cpu0);
    const records = await c.actions.steps(id);
    const applied = [...records.values()].filter((r) => r.state === 'applied').length;
    const patchesSent = fakes.reduce((n, f) => n + f.counters.patch, 0);
    const result = {
      clusters: CLUSTERS,
      workloads: WORKLOADS,
      parallelism: PARALLELISM,
      planSeconds: +(planMs / 1000).toFixed(2),
      executeSeconds: +(execMs / 1000).toFixed(2),
      executeCpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2),
      loadAverage1m: +(loadavg()[0] ?? 0).toFixed(1),
      outcome,
      applied,
      patches: patchesSent,
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      node: process.version,
    };
    console.log(JSON.stringify(result));
    if (applied !== WORKLOADS || patchesSent !== WORKLOADS) process.exitCode = 1;
    await c.close();
  } finally {
    for (const f of fakes) await f.close();
    await slack.close();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
