import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsClients } from '../../src/adapters/aws/clients.ts';
import { type AwsConfig, awsConfigSchema } from '../../src/adapters/aws/config.ts';
import { ROTATION_ANNOTATION, RotateExecutor } from '../../src/adapters/aws/rotate/executor.ts';
import { RotateFinishPlanner, RotatePlanner } from '../../src/adapters/aws/rotate/planner.ts';
import { KubeSecrets } from '../../src/adapters/kubernetes/secrets.ts';
import type { ClusterConfig } from '../../src/config.ts';
import type {
  ActionContext,
  ActionExecutor,
  ActionPlan,
  StepRecord,
} from '../../src/domain/actions/contract.ts';
import { type FakeAws, startFakeAws } from '../../src/testing/fake-aws/server.ts';
import { type FakeKube, startFakeKube } from '../../src/testing/fake-kube.ts';

const ACCOUNT = '111111111111';
const OLD = 'AKIAOLDKEY0000000001';
let fake: FakeAws;
let kube: FakeKube;
let dir: string;
let cluster: ClusterConfig;
let seq = 0;

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  fake = await startFakeAws();
  kube = await startFakeKube({ name: 'prod-eu' });
  kube.registerCustomResource({
    group: '',
    version: 'v1',
    plural: 'secrets',
    kind: 'Secret',
    namespaced: true,
  });
  dir = await mkdtemp(join(tmpdir(), 'scope-rotate-'));
  cluster = {
    name: 'prod-eu',
    environment: 'prod',
    kubeconfig: await kube.writeKubeconfig(dir),
    context: 'prod-eu',
    inCluster: false,
    timeoutSeconds: 5,
  };
});
afterAll(async () => {
  await fake?.close();
  await kube?.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  fake.clearFaults();
});

function config(): AwsConfig {
  return awsConfigSchema.parse({
    regions: ['eu-west-1'],
    endpoint: fake.endpoint,
    accounts: [{ id: ACCOUNT, environment: 'prod' }],
    rotation: {
      destinations: [
        { user: 'ci-deployer', secretsManager: { secretId: 'ci/deployer-aws', region: 'eu-west-1' } },
        { user: 'vendor-sync', kubernetes: { clusters: ['prod-eu'], namespace: 'ci', name: 'vendor-aws' } },
      ],
      serviceAccountTokens: [
        {
          principal: 'role:ci-deploy',
          cluster: 'prod-eu',
          namespace: 'ci',
          serviceAccount: 'deployer',
          secret: 'deployer-token',
        },
      ],
    },
  });
}

function parts() {
  const cfg = config();
  const clients = new AwsClients(cfg);
  const secrets = new KubeSecrets([cluster]);
  return {
    planner: new RotatePlanner(clients, cfg),
    finish: new RotateFinishPlanner(clients),
    rotate: new RotateExecutor('rotate', clients, secrets),
    rotateFinish: new RotateExecutor('rotate-finish', clients, secrets),
  };
}

const NOW = new Date('2026-11-20T15:00:00Z');
function ctx(requestId: string): ActionContext {
  return {
    requestId,
    requestedBy: 'U0RESPONDER',
    approvedBy: ['U0LEAD'],
    reason: 'incident',
    now: () => NOW,
    signal: AbortSignal.timeout(10_000),
  };
}

/** What the approval engine does with a stored plan: each todo step once, in order, stopping at the first failure. */
async function execute(
  plan: ActionPlan,
  ex: ActionExecutor,
  requestId: string,
  log = new Map<string, StepRecord>(),
) {
  for (const s of plan.steps) {
    if (s.state !== 'todo' || log.get(s.key)?.state === 'applied') continue;
    const r = await ex.apply(s, ctx(requestId));
    log.set(s.key, r);
    if (r.state === 'failed') break;
  }
  return log;
}

function user(name: string, keys: { id: string; status?: 'Active' | 'Inactive' }[]) {
  fake.iam.addUser(ACCOUNT, name, keys);
}

describe('Rotate an IAM user access key', () => {
  it('creates the new key, stores it in Secrets Manager, deactivates the old one; rotate-finish deletes it', async () => {
    user('ci-deployer', [{ id: OLD }]);
    const p = parts();
    const plan = await p.planner.plan({ principal: 'user:ci-deployer' }, AbortSignal.timeout(5000));
    expect(plan.steps.map((s) => [s.key, s.state])).toEqual([
      ['create-key:ci-deployer', 'todo'],
      [`deactivate-key:ci-deployer/${OLD}`, 'todo'],
    ]);
    expect(plan.steps[0]?.description).toContain('Secrets Manager ci/deployer-aws');
    const creates = fake.count({ service: 'iam', operation: 'CreateAccessKey' });
    const log = await execute(plan, p.rotate, `req-${++seq}`);
    expect([...log.values()].map((r) => r.state)).toEqual(['applied', 'applied']);
    const keys = fake.iam.keys(ACCOUNT, 'ci-deployer');
    const fresh = keys.find((k) => k.id !== OLD);
    expect(keys.map((k) => k.status).sort()).toEqual(['Active', 'Inactive']);
    expect(keys.find((k) => k.id === OLD)?.status).toBe('Inactive');
    const stored = JSON.parse(fake.secrets.current(ACCOUNT, 'eu-west-1', 'ci/deployer-aws') ?? '{}');
    expect(stored).toMatchObject({ AccessKeyId: fresh?.id, SecretAccessKey: fresh?.secret });
    // The step log never holds secret material.
    expect(JSON.stringify([...log.values(), plan])).not.toContain(fresh?.secret ?? 'x');
    expect(fake.count({ service: 'iam', operation: 'CreateAccessKey' }) - creates).toBe(1);

    const finish = await p.finish.plan(
      { account: ACCOUNT, user: 'ci-deployer', accessKeyIds: [OLD] },
      AbortSignal.timeout(5000),
    );
    expect(finish.steps.map((s) => s.state)).toEqual(['todo']);
    await execute(finish, p.rotateFinish, `req-${++seq}`);
    expect(fake.iam.keys(ACCOUNT, 'ci-deployer').map((k) => k.id)).toEqual([fresh?.id]);
  });

  it('a crash after the key was created and stored but before the record: the retry finds it, no second key', async () => {
    user('ci-deployer', [{ id: OLD }]);
    const p = parts();
    const plan = await p.planner.plan({ principal: 'user:ci-deployer' }, AbortSignal.timeout(5000));
    const step = plan.steps[0];
    if (!step) throw new Error('no step');
    const requestId = `req-${++seq}`;
    const creates = fake.count({ service: 'iam', operation: 'CreateAccessKey' });
    const first = await p.rotate.apply(step, ctx(requestId));
    const again = await p.rotate.apply(step, ctx(requestId));
    expect(first.state).toBe('applied');
    expect(again).toMatchObject({ state: 'applied', prior: { resumed: true } });
    expect(fake.count({ service: 'iam', operation: 'CreateAccessKey' }) - creates).toBe(1);
    expect(fake.iam.keys(ACCOUNT, 'ci-deployer')).toHaveLength(2);
  });

  it('respects the two-keys limit: the plan says why it cannot rotate', async () => {
    user('ci-deployer', [{ id: OLD }, { id: 'AKIASECONDKEY0000001' }]);
    const plan = await parts().planner.plan({ principal: 'user:ci-deployer' }, AbortSignal.timeout(5000));
    expect(plan.steps[0]).toMatchObject({
      state: 'impossible',
      reason: expect.stringContaining('two access keys'),
    });
    expect(plan.steps.slice(1).every((s) => s.state === 'impossible')).toBe(true);
  });

  it('stores the new key in a Kubernetes Secret of a named cluster', async () => {
    user('vendor-sync', [{ id: 'AKIAVENDOROLD0000001' }]);
    const p = parts();
    const plan = await p.planner.plan({ principal: 'user:vendor-sync' }, AbortSignal.timeout(5000));
    await execute(plan, p.rotate, `req-${++seq}`);
    const fresh = fake.iam.keys(ACCOUNT, 'vendor-sync').find((k) => k.status === 'Active');
    const secret = kube.get('v1', 'Secret', 'ci', 'vendor-aws') as {
      data?: Record<string, string>;
      metadata?: { annotations?: Record<string, string> };
    };
    expect(Buffer.from(secret.data?.AWS_ACCESS_KEY_ID ?? '', 'base64').toString()).toBe(fresh?.id);
    expect(Buffer.from(secret.data?.AWS_SECRET_ACCESS_KEY ?? '', 'base64').toString()).toBe(fresh?.secret);
    expect(secret.metadata?.annotations?.[ROTATION_ANNOTATION]).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('Rotate a role, its CI token and the keys it created', () => {
  it('revokes older sessions, recreates the service-account token, deactivates keys made for others', async () => {
    fake.iam.addRole(ACCOUNT, 'ci-deploy');
    user('backup-admin', [{ id: 'AKIAATTACKERMADE0001' }]);
    kube.upsert({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'deployer-token',
        namespace: 'ci',
        annotations: { 'kubernetes.io/service-account.name': 'deployer' },
      },
      type: 'kubernetes.io/service-account-token',
      data: { token: Buffer.from('old-token').toString('base64') },
    } as never);
    const oldUid = (kube.get('v1', 'Secret', 'ci', 'deployer-token') as { metadata: { uid: string } })
      .metadata.uid;
    const p = parts();
    const plan = await p.planner.plan(
      {
        principal: 'role:ci-deploy',
        createdKeys: [{ user: 'backup-admin', accessKeyId: 'AKIAATTACKERMADE0001' }],
      },
      AbortSignal.timeout(5000),
    );
    expect(plan.steps.map((s) => s.key)).toEqual([
      'revoke-sessions:ci-deploy',
      'recreate-token:prod-eu/ci/deployer-token',
      'deactivate-key:backup-admin/AKIAATTACKERMADE0001',
    ]);
    const requestId = `req-${++seq}`;
    const log = await execute(plan, p.rotate, requestId);
    expect([...log.values()].map((r) => r.state)).toEqual(['applied', 'applied', 'applied']);
    const policy = JSON.parse(fake.iam.rolePolicy(ACCOUNT, 'ci-deploy', 'AWSRevokeOlderSessions') ?? '{}');
    expect(policy.Statement[0]).toMatchObject({
      Effect: 'Deny',
      Action: ['*'],
      Condition: { DateLessThan: { 'aws:TokenIssueTime': '2026-11-20T15:00:00Z' } },
    });
    const token = kube.get('v1', 'Secret', 'ci', 'deployer-token') as {
      metadata: { uid: string; annotations: Record<string, string> };
      data?: Record<string, string>;
    };
    expect(token.metadata.uid).not.toBe(oldUid);
    expect(token.metadata.annotations['kubernetes.io/service-account.name']).toBe('deployer');
    expect(token.data?.token).toBeUndefined();
    expect(fake.iam.keys(ACCOUNT, 'backup-admin')[0]?.status).toBe('Inactive');
    // Replaying every step (a resume after a crash) changes nothing more.
    const puts = fake.count({ service: 'iam', operation: 'PutRolePolicy' });
    for (const s of plan.steps) expect((await p.rotate.apply(s, ctx(requestId))).state).toBe('applied');
    expect(fake.count({ service: 'iam', operation: 'PutRolePolicy' })).toBe(puts);
    expect(
      (kube.get('v1', 'Secret', 'ci', 'deployer-token') as { metadata: { uid: string } }).metadata.uid,
    ).toBe(token.metadata.uid);
  });
});

describe('A rotation failing half-way', () => {
  it('is reported, leaves no usable orphan, and the retry continues where it stopped', async () => {
    user('ci-deployer', [{ id: OLD }]);
    const p = parts();
    const plan = await p.planner.plan({ principal: 'user:ci-deployer' }, AbortSignal.timeout(5000));
    const requestId = `req-${++seq}`;
    const creates = fake.count({ service: 'iam', operation: 'CreateAccessKey' });
    const deletes = fake.count({ service: 'iam', operation: 'DeleteAccessKey' });
    // Storing the new key fails once: the key exists but its secret never reached the destination.
    fake.setFault({
      service: 'secretsmanager',
      operation: 'PutSecretValue',
      status: 400,
      code: 'AccessDeniedException',
      message: 'denied by test',
      times: 1,
    });
    const log = await execute(plan, p.rotate, requestId);
    expect(log.get('create-key:ci-deployer')).toMatchObject({
      state: 'failed',
      error: expect.stringContaining('AccessDeniedException'),
    });
    expect(log.has(`deactivate-key:ci-deployer/${OLD}`)).toBe(false);
    expect(fake.iam.keys(ACCOUNT, 'ci-deployer').find((k) => k.id === OLD)?.status).toBe('Active');

    await execute(plan, p.rotate, requestId, log);
    expect([...log.values()].map((r) => r.state)).toEqual(['applied', 'applied']);
    const keys = fake.iam.keys(ACCOUNT, 'ci-deployer');
    expect(keys).toHaveLength(2);
    const fresh = keys.find((k) => k.id !== OLD);
    expect(
      JSON.parse(fake.secrets.current(ACCOUNT, 'eu-west-1', 'ci/deployer-aws') ?? '{}').AccessKeyId,
    ).toBe(fresh?.id);
    expect(fake.count({ service: 'iam', operation: 'CreateAccessKey' }) - creates).toBe(2);
    expect(fake.count({ service: 'iam', operation: 'DeleteAccessKey' }) - deletes).toBe(1);
  });

  it('a failed deactivation is retried alone: the new key is not created twice', async () => {
    user('ci-deployer', [{ id: OLD }]);
    const p = parts();
    const plan = await p.planner.plan({ principal: 'user:ci-deployer' }, AbortSignal.timeout(5000));
    const requestId = `req-${++seq}`;
    const creates = fake.count({ service: 'iam', operation: 'CreateAccessKey' });
    fake.setFault({
      service: 'iam',
      operation: 'UpdateAccessKey',
      status: 403,
      code: 'AccessDenied',
      times: 1,
    });
    const log = await execute(plan, p.rotate, requestId);
    expect([...log.values()].map((r) => r.state)).toEqual(['applied', 'failed']);
    await execute(plan, p.rotate, requestId, log);
    expect([...log.values()].map((r) => r.state)).toEqual(['applied', 'applied']);
    expect(fake.count({ service: 'iam', operation: 'CreateAccessKey' }) - creates).toBe(1);
    expect(fake.iam.keys(ACCOUNT, 'ci-deployer').find((k) => k.id === OLD)?.status).toBe('Inactive');
  });

  it('refuses to continue when a key nobody can vouch for appeared since planning', async () => {
    user('ci-deployer', [{ id: OLD }]);
    const p = parts();
    const plan = await p.planner.plan({ principal: 'user:ci-deployer' }, AbortSignal.timeout(5000));
    fake.iam
      .keys(ACCOUNT, 'ci-deployer')
      .push({ id: 'AKIASOMEONEELSE00001', secret: 's', status: 'Active', created: '2026-11-20T00:00:00Z' });
    const log = await execute(plan, p.rotate, `req-${++seq}`);
    expect(log.get('create-key:ci-deployer')).toMatchObject({
      state: 'failed',
      error: expect.stringContaining('AKIASOMEONEELSE00001'),
    });
    expect(fake.iam.keys(ACCOUNT, 'ci-deployer')).toHaveLength(2);
  });
});
