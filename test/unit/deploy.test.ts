import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load, loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');
const DIGEST = /@sha256:[0-9a-f]{64}$/;

type Service = {
  image?: string;
  ports?: string[];
  volumes?: string[];
  networks?: string[] | Record<string, unknown>;
  env_file?: string | string[];
  environment?: Record<string, string>;
};
/** js-yaml 5 keeps `<<` merge keys as they are: resolve them as Compose does. */
function merged<T>(node: T): T {
  if (Array.isArray(node)) return node.map(merged) as T;
  if (typeof node !== 'object' || node === null) return node;
  const { '<<': base, ...rest } = node as Record<string, unknown>;
  const bases = (Array.isArray(base) ? base : base ? [base] : []).map(merged) as Record<string, unknown>[];
  const own = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, merged(v)]));
  return Object.assign({}, ...bases, own) as T;
}
const compose = () =>
  merged(load(read('docker-compose.yml'))) as {
    services: Record<string, Service>;
    networks: Record<string, { internal?: boolean }>;
  };

type Container = { image: string; env: Array<{ name: string; value?: string }> };
type PodSpec = {
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
  volumes?: unknown[];
  containers: Container[];
};
type K8sObject = {
  kind: string;
  metadata: { name: string };
  spec: { template: { spec: PodSpec } };
  rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
};

function kustomize(): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', join(root, 'deploy/kubernetes')], { encoding: 'utf8' });
  return loadAll(out) as K8sObject[];
}

describe('images pinned by digest', () => {
  it('Dockerfile base image', () => {
    const arg = /^ARG NODE_IMAGE=(\S+)$/m.exec(read('Dockerfile'))?.[1] ?? '';
    expect(arg).toMatch(/^node:24-bookworm-slim@sha256:[0-9a-f]{64}$/);
  });

  it('compose images (every image that is pulled, not built)', () => {
    for (const [name, s] of Object.entries(compose().services)) {
      if (s.image === 'scope:local') continue;
      expect(s.image, name).toMatch(DIGEST);
    }
  });

  it('Kubernetes manifests render with every container image pinned by digest', () => {
    const containers = kustomize()
      .filter((o) => o.kind === 'Deployment')
      .flatMap((d) => d.spec.template.spec.containers);
    expect(containers.length).toBeGreaterThan(0);
    for (const c of containers) expect(c.image).toMatch(DIGEST);
  });
});

describe('docker-compose defaults', () => {
  it('mounts no kubeconfig by default (only the opt-in override file does)', () => {
    for (const s of Object.values(compose().services))
      for (const v of s.volumes ?? []) expect(v).not.toMatch(/kube/);
    expect(read('deploy/compose/kubeconfig.yml')).toMatch(/COMPOSE_KUBECONFIG:\?/);
  });

  it('binds the bot port to loopback unless configured', () => {
    const ports = compose().services.bot?.ports ?? [];
    expect(ports.length).toBeGreaterThan(0);
    for (const p of ports) expect(p).toMatch(/^(\$\{SCOPE_BOT_BIND:-127\.0\.0\.1\}|127\.0\.0\.1):/);
  });

  it('keeps Redis on an internal network, password required, default user off', () => {
    const c = compose();
    const redis = c.services.redis as Service;
    expect(redis.networks).toEqual(['backend']);
    expect(c.networks.backend?.internal).toBe(true);
    expect(redis.ports).toBeUndefined();
    expect(JSON.stringify(redis)).toContain('user default off');
    expect(redis.environment?.SCOPE_REDIS_PASSWORD).toMatch(/^\$\{SCOPE_REDIS_PASSWORD:\?/);
    for (const name of ['bot', 'worker'])
      expect(JSON.stringify(c.services[name])).toContain('SCOPE_REDIS_PASSWORD:?');
  });

  it('gives the signing secret to the bot only', () => {
    const c = compose();
    expect(c.services.worker?.env_file).toBe('./deploy/compose/worker.env');
    expect(read('deploy/compose/worker.env.example')).not.toMatch(/SIGNING_SECRET/);
    expect(read('deploy/compose/bot.env.example')).toMatch(/^SCOPE_SLACK_SIGNING_SECRET=/m);
    expect(JSON.stringify(c.services.worker)).not.toMatch(/SIGNING_SECRET/);
  });

  it('`docker-compose config` validates (and refuses to run without a Redis password)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'scope-compose-'));
    try {
      cpSync(join(root, 'docker-compose.yml'), join(dir, 'docker-compose.yml'));
      cpSync(join(root, 'deploy'), join(dir, 'deploy'), { recursive: true });
      cpSync(join(root, 'deploy/compose/bot.env.example'), join(dir, 'deploy/compose/bot.env'));
      cpSync(join(root, 'deploy/compose/worker.env.example'), join(dir, 'deploy/compose/worker.env'));
      writeFileSync(join(dir, 'scope.yaml'), '{}\n');
      const env = { PATH: process.env.PATH ?? '', HOME: dir };
      const run = (extra: Record<string, string>) =>
        execFileSync('docker-compose', ['config'], {
          cwd: dir,
          env: { ...env, ...extra },
          encoding: 'utf8',
          stdio: 'pipe',
        });
      const out = run({ SCOPE_REDIS_PASSWORD: 'p'.repeat(32), SCOPE_AUDIT_KEY: 'k'.repeat(32) });
      expect(out).toContain('127.0.0.1:3000:3000');
      expect(() => run({ SCOPE_AUDIT_KEY: 'k'.repeat(32) })).toThrow(/SCOPE_REDIS_PASSWORD/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Kubernetes manifests', () => {
  it('RBAC grants exactly what the collector calls: pods list/watch, replicasets and jobs list', () => {
    const role = kustomize().find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'scope-reader');
    const rules = (role?.rules ?? []).map((r) => [
      r.apiGroups.join(),
      r.resources.join(),
      [...r.verbs].sort().join(),
    ]);
    expect(rules).toEqual([
      ['', 'pods', 'list,watch'],
      ['apps', 'replicasets', 'list'],
      ['batch', 'jobs', 'list'],
    ]);
    // And the adapter really makes only those calls.
    const client = read('src/adapters/kubernetes/client.ts');
    expect(client).toContain("'/apis/apps/v1/replicasets'");
    expect(client).not.toMatch(/readNamespacedReplicaSet|readNamespacedJob|watch\(['"]\/apis/);
  });

  it('runs the collector as its own Deployment; command workers hold no cluster credentials', () => {
    const objs = kustomize();
    const dep = (name: string) => objs.find((o) => o.kind === 'Deployment' && o.metadata.name === name);
    const worker = dep('scope-worker') as K8sObject;
    const collector = dep('scope-collector') as K8sObject;
    expect(collector).toBeDefined();
    const env = (d: K8sObject | undefined) =>
      Object.fromEntries(
        (d?.spec.template.spec.containers[0]?.env ?? []).map((e) => [e.name, e.value ?? 'secret']),
      );
    expect(worker.spec.template.spec.automountServiceAccountToken).toBe(false);
    expect(JSON.stringify(worker.spec.template.spec.volumes)).not.toMatch(/kubeconfig/);
    expect(env(worker).SCOPE_INVENTORY_COLLECT).toBe('false');
    expect(env(worker).SCOPE_SLACK_SIGNING_SECRET).toBeUndefined();
    expect(collector.spec.template.spec.serviceAccountName).toBe('scope-reader');
    expect(env(collector).SCOPE_INVENTORY_COLLECT).toBe('true');
    for (const d of [worker, collector, dep('scope-bot')]) expect(env(d).SCOPE_AUDIT_KEY).toBe('secret');
  });
});

describe('Slack app manifest', () => {
  it('asks only for scopes the code uses', () => {
    const m = load(read('manifest.yml')) as { oauth_config: { scopes: { bot: string[] } } };
    const src = execFileSync(
      'grep',
      [
        '-rhoE',
        'chat\\.(postMessage|update|postEphemeral)|filesUploadV2|app\\.command|conversations\\.history|usergroups\\.users\\.list|views\\.open',
        join(root, 'src'),
      ],
      {
        encoding: 'utf8',
      },
    );
    const used: Record<string, RegExp> = {
      commands: /app\.command/,
      'chat:write': /chat\.postMessage/,
      'files:write': /filesUploadV2/,
      // Exactly-once delivery: find a result a crashed worker already posted (public / private channels).
      'channels:history': /conversations\.history/,
      'groups:history': /conversations\.history/,
      // Approver user groups.
      'usergroups:read': /usergroups\.users\.list/,
    };
    for (const scope of Object.keys(used)) if (!m.oauth_config.scopes.bot.includes(scope)) delete used[scope];
    expect(m.oauth_config.scopes.bot.sort()).toEqual(Object.keys(used).sort());
    expect(m.oauth_config.scopes.bot).toEqual(
      expect.arrayContaining(['commands', 'chat:write', 'files:write']),
    );
    for (const [scope, pattern] of Object.entries(used)) expect(src, scope).toMatch(pattern);
  });
});
