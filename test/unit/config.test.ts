import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig, parseConfig, requireSlackCredentials } from '../../src/config.ts';
import { configError } from '../support/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'scope-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function yamlFile(text: string): string {
  const path = join(dir, `config-${++fileNo}.yaml`);
  writeFileSync(path, text);
  return path;
}

const cluster = { name: 'prod-eu', environment: 'prod', kubeconfig: '/etc/scope/prod-eu.kubeconfig' };

describe('slack URLs', () => {
  it('accepts https anywhere and plain http only to loopback for the Web API', () => {
    expect(parseConfig({ slack: { apiUrl: 'https://slack.example.com/api/' } }).slack.apiUrl).toBeDefined();
    expect(parseConfig({ slack: { apiUrl: 'http://127.0.0.1:9/api/' } }).slack.apiUrl).toBeDefined();
    expect(parseConfig({ slack: { apiUrl: 'http://localhost:9/api/' } }).slack.apiUrl).toBeDefined();
  });
});

describe('parseConfig defaults', () => {
  it('fills in every section from nothing', () => {
    for (const raw of [undefined, null, {}]) {
      const c = parseConfig(raw);
      expect(c.slack).toEqual({
        mode: 'http',
        port: 3000,
        host: '0.0.0.0',
        responseUrlHosts: ['hooks.slack.com'],
        allowLoopback: false,
      });
      expect(c.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: '{scope}' });
      expect(c.worker).toEqual({
        concurrency: 4,
        attempts: 4,
        backoffMs: 1000,
        lockDurationMs: 30_000,
        stalledIntervalMs: 30_000,
      });
      expect(c.clusters).toEqual([]);
      expect(c.aws).toMatchObject({ regions: [], credentialSource: 'default-chain', accounts: [] });
      expect(c.aws.audit.requestsPerSecond).toBe(2);
      expect(c.access).toEqual({ allowedChannels: ['*'], approvers: { users: [], usergroups: [] } });
      expect(c.inventory).toMatchObject({
        historyDays: 90,
        resyncMinutes: 30,
        pageSize: 500,
        clusterParallelism: 2,
        collectorHeapMb: 192,
      });
      expect(c.http).toEqual({ port: 9464, host: '0.0.0.0' });
      expect(c.log).toEqual({ level: 'info' });
    }
  });

  it('fills in the rest of a section that is partly given', () => {
    const c = parseConfig({ slack: { port: 8080 }, worker: { concurrency: 16 } });
    expect(c.slack).toMatchObject({ mode: 'http', port: 8080, host: '0.0.0.0', allowLoopback: false });
    expect(c.worker.concurrency).toBe(16);
    expect(c.worker.attempts).toBe(4);
  });

  it('fills in cluster defaults', () => {
    const c = parseConfig({
      clusters: [
        { name: 'prod-eu', kubeconfig: '/k' },
        { name: 'local', inCluster: true },
      ],
    });
    expect(c.clusters).toEqual([
      { name: 'prod-eu', environment: 'unknown', kubeconfig: '/k', inCluster: false, timeoutSeconds: 20 },
      { name: 'local', environment: 'unknown', inCluster: true, timeoutSeconds: 20 },
    ]);
  });

  it('keeps given values', () => {
    const c = parseConfig({
      slack: { mode: 'socket', botToken: 'xoxb-1-2', appToken: 'xapp-1-2' },
      clusters: [{ ...cluster, context: 'prod-eu-admin', timeoutSeconds: 5 }],
      access: { allowedChannels: ['C0123ABCD'], approvers: { users: ['U0123ABCD'] } },
      aws: { regions: ['eu-west-1', 'us-east-1'] },
      log: { level: 'debug' },
    });
    expect(c.slack.mode).toBe('socket');
    expect(c.clusters[0]).toMatchObject({ context: 'prod-eu-admin', timeoutSeconds: 5, environment: 'prod' });
    expect(c.access.approvers).toEqual({ users: ['U0123ABCD'], usergroups: [] });
    expect(c.aws.regions).toEqual(['eu-west-1', 'us-east-1']);
    expect(c.log.level).toBe('debug');
  });
});

describe('parseConfig validation', () => {
  it('names the key path of an invalid cluster name', () => {
    const err = configError(() => parseConfig({ clusters: [{ name: 'Prod EU', kubeconfig: '/k' }] }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe(
      'invalid configuration:\n  - clusters.0.name: lowercase letters, digits, ".", "_" or "-"',
    );
  });

  it('reports every problem at once, each on its own line with its path', () => {
    const err = configError(() =>
      parseConfig({
        slack: { mode: 'carrier-pigeon', port: 70_000 },
        worker: { concurrency: 0 },
        clusters: [cluster, { name: 'stage' }],
        access: { allowedChannels: ['general'] },
      }),
    );
    const lines = err.message.split('\n');
    expect(lines[0]).toBe('invalid configuration:');
    const paths = lines.slice(1).map((l) => /^ {2}- ([^:]+):/.exec(l)?.[1]);
    expect(paths.sort()).toEqual(
      ['access.allowedChannels.0', 'clusters.1', 'slack.mode', 'slack.port', 'worker.concurrency'].sort(),
    );
    expect(err.message).toContain('clusters.1: set either kubeconfig (path) or inCluster: true');
    expect(err.message).toContain('access.allowedChannels.0: a channel id such as C0123ABCD, or "*"');
  });

  it.each([
    [{ slack: { botToken: 'xoxp-user-token' } }, 'slack.botToken: a bot token starts with xoxb-'],
    [{ slack: { appToken: 'xoxb-1' } }, 'slack.appToken: an app-level token starts with xapp-'],
    [{ slack: { signingSecret: 'short' } }, 'slack.signingSecret:'],
    [{ slack: { apiUrl: 'http://slack.example.com/api/' } }, 'slack.apiUrl: plain http to slack.example.com'],
    [{ slack: { apiUrl: 'ftp://127.0.0.1/api/' } }, 'slack.apiUrl: scheme ftp'],
    [{ slack: { responseUrlHosts: ['https://hooks.slack.com'] } }, 'slack.responseUrlHosts.0: a host name'],
    [{ redis: { prefix: 'scope' } }, 'redis.prefix: a Redis Cluster hash tag such as "{scope}"'],
    [{ aws: { regions: ['europe'] } }, 'aws.regions.0: an AWS region such as eu-west-1'],
    [{ access: { allowedChannels: ['*'], approvers: { users: ['bob'] } } }, 'access.approvers.users.0:'],
    [{ clusters: [{ ...cluster, timeoutSeconds: 0 }] }, 'clusters.0.timeoutSeconds:'],
    [{ inventory: { pageSize: 5 } }, 'inventory.pageSize:'],
    [{ log: { level: 'verbose' } }, 'log.level:'],
    [{ clusters: 'prod-eu' }, 'clusters:'],
  ])('rejects %j', (raw, expected) => {
    const err = configError(() => parseConfig(raw));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain(`\n  - ${expected}`);
  });

  it('rejects unknown keys at the top level and inside sections', () => {
    const top = configError(() => parseConfig({ slak: {} }));
    expect(top.message).toMatch(/^invalid configuration:\n {2}- \(root\): .*"slak"/);
    const nested = configError(() => parseConfig({ slack: { bot_token: 'xoxb-1' } }));
    expect(nested.message).toMatch(/\n {2}- slack: .*"bot_token"/);
    const inCluster = configError(() => parseConfig({ clusters: [{ ...cluster, namespace: 'x' }] }));
    expect(inCluster.message).toMatch(/\n {2}- clusters\.0: .*"namespace"/);
  });

  it('rejects duplicate cluster names', () => {
    const err = configError(() =>
      parseConfig({
        clusters: [cluster, { name: 'stage', inCluster: true }, { ...cluster, environment: 'x' }],
      }),
    );
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe('invalid configuration:\n  - clusters: duplicate name "prod-eu"');
  });

  it('names the source in the message', () => {
    const err = configError(() => parseConfig({ log: { level: 'loud' } }, 'config file /etc/scope.yaml'));
    expect(err.message.startsWith('invalid config file /etc/scope.yaml:\n  - log.level:')).toBe(true);
  });
});

describe('parseConfig result', () => {
  it('is deeply frozen', () => {
    const c = parseConfig({ clusters: [cluster], access: { allowedChannels: ['C0123ABCD'] } });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.slack)).toBe(true);
    expect(Object.isFrozen(c.clusters)).toBe(true);
    expect(Object.isFrozen(c.clusters[0])).toBe(true);
    expect(Object.isFrozen(c.access.allowedChannels)).toBe(true);
    expect(() => {
      (c.slack as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (c.clusters as Config['clusters'][number][]).push({ ...cluster, inCluster: false, timeoutSeconds: 1 });
    }).toThrow(TypeError);
    expect(c.slack.port).toBe(3000);
  });

  it('does not let one parse affect the defaults of the next', () => {
    parseConfig({});
    const c = parseConfig({ slack: { port: 4000 } });
    expect(c.slack.port).toBe(4000);
    expect(parseConfig({}).slack.port).toBe(3000);
  });
});

describe('loadConfig', () => {
  const fileText = [
    'slack:',
    '  mode: socket',
    '  port: 3001',
    'worker:',
    '  concurrency: 2',
    'clusters:',
    '  - name: prod-eu',
    '    environment: prod',
    '    kubeconfig: /etc/scope/prod-eu.kubeconfig',
    '  - name: stage-eu',
    '    environment: stage',
    '    inCluster: true',
    '',
  ].join('\n');

  it('reads the YAML file', () => {
    const file = yamlFile(fileText);
    const c = loadConfig({}, file);
    expect(c.slack).toMatchObject({ mode: 'socket', port: 3001 });
    expect(c.worker.concurrency).toBe(2);
    expect(c.clusters.map((x) => x.name)).toEqual(['prod-eu', 'stage-eu']);
  });

  it('takes the file from SCOPE_CONFIG by default', () => {
    const file = yamlFile(fileText);
    expect(loadConfig({ SCOPE_CONFIG: file }).clusters).toHaveLength(2);
  });

  it('uses the defaults when no file is given', () => {
    expect(loadConfig({})).toEqual(parseConfig({}));
  });

  it('lets the environment override file values, converting numbers and lists', () => {
    const file = yamlFile(fileText);
    const c = loadConfig(
      {
        SCOPE_SLACK_BOT_TOKEN: 'xoxb-111-222-abc',
        SCOPE_SLACK_APP_TOKEN: 'xapp-1-A1-abc',
        SCOPE_SLACK_PORT: '3100',
        SCOPE_WORKER_CONCURRENCY: '8',
        SCOPE_HTTP_PORT: '9100',
        SCOPE_ALLOWED_CHANNELS: ' C0AAA111, G0BBB222 ,,',
        SCOPE_REDIS_URL: 'redis://redis.internal:6380',
        SCOPE_LOG_LEVEL: 'warn',
        SCOPE_SLACK_MODE: 'http',
        SCOPE_SLACK_SIGNING_SECRET: '',
      },
      file,
    );
    expect(c.slack).toMatchObject({
      mode: 'http',
      port: 3100,
      botToken: 'xoxb-111-222-abc',
      appToken: 'xapp-1-A1-abc',
    });
    expect(c.slack.signingSecret).toBeUndefined();
    expect(c.worker.concurrency).toBe(8);
    expect(c.worker.attempts).toBe(4);
    expect(c.http.port).toBe(9100);
    expect(c.access.allowedChannels).toEqual(['C0AAA111', 'G0BBB222']);
    expect(c.redis.url).toBe('redis://redis.internal:6380');
    expect(c.log.level).toBe('warn');
    expect(c.clusters).toHaveLength(2);
  });

  it('applies overrides without a file', () => {
    const c = loadConfig({ SCOPE_WORKER_CONCURRENCY: '12' });
    expect(c.worker).toMatchObject({ concurrency: 12, attempts: 4 });
  });

  it('reports a non-numeric number override with its key path and the file', () => {
    const file = yamlFile(fileText);
    const err = configError(() => loadConfig({ SCOPE_WORKER_CONCURRENCY: 'lots' }, file));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message.startsWith(`invalid config file ${file}:\n  - worker.concurrency:`)).toBe(true);
  });

  it('reports invalid values from the file with their key path', () => {
    const file = yamlFile('clusters:\n  - name: Prod\n    kubeconfig: /k\n');
    const err = configError(() => loadConfig({}, file));
    expect(err.message).toContain(`invalid config file ${file}:\n  - clusters.0.name:`);
  });

  it('reports a file that is not valid YAML', () => {
    const file = yamlFile('slack:\n  mode: [socket\n');
    const err = configError(() => loadConfig({}, file));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message.startsWith(`config file ${file} is not valid YAML: `)).toBe(true);
  });

  it('reports a file whose top level is not a mapping', () => {
    for (const text of ['- a\n- b\n', 'just text\n']) {
      const file = yamlFile(text);
      const err = configError(() => loadConfig({}, file));
      expect(err.message).toBe(`config file ${file} must hold a YAML mapping at the top level`);
    }
  });

  it('treats an empty or comment-only file as no settings', () => {
    expect(loadConfig({}, yamlFile(''))).toEqual(parseConfig({}));
    expect(loadConfig({}, yamlFile('# everything comes from the environment\n'))).toEqual(parseConfig({}));
    expect(loadConfig({}, yamlFile('---\n'))).toEqual(parseConfig({}));
  });

  it('refuses a file with several YAML documents', () => {
    const file = yamlFile('log:\n  level: warn\n---\nlog:\n  level: debug\n');
    const err = configError(() => loadConfig({}, file));
    expect(err.message).toBe(
      `config file ${file} is not valid YAML: expected a single document in the stream, but found more`,
    );
  });

  it('reports a missing file', () => {
    const file = join(dir, 'does-not-exist.yaml');
    const err = configError(() => loadConfig({}, file));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(new RegExp(`^cannot read config file ${file}: .*ENOENT`));
  });
});

describe('requireSlackCredentials', () => {
  it('needs a bot token and signing secret in http mode', () => {
    const err = configError(() => requireSlackCredentials(parseConfig({})));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe(
      'missing Slack settings:\n' +
        '  - slack.botToken (env SCOPE_SLACK_BOT_TOKEN)\n' +
        '  - slack.signingSecret (env SCOPE_SLACK_SIGNING_SECRET)',
    );
  });

  it('needs an app token, not a signing secret, in socket mode', () => {
    const err = configError(() =>
      requireSlackCredentials(parseConfig({ slack: { mode: 'socket', botToken: 'xoxb-1' } })),
    );
    expect(err.message).toBe('missing Slack settings:\n  - slack.appToken (env SCOPE_SLACK_APP_TOKEN)');
  });

  it('accepts complete settings for either mode', () => {
    expect(() =>
      requireSlackCredentials(
        parseConfig({ slack: { mode: 'http', botToken: 'xoxb-1', signingSecret: 'a-long-secret' } }),
      ),
    ).not.toThrow();
    expect(() =>
      requireSlackCredentials(
        parseConfig({ slack: { mode: 'socket', botToken: 'xoxb-1', appToken: 'xapp-1' } }),
      ),
    ).not.toThrow();
  });

  it('never echoes a secret it has', () => {
    const err = configError(() =>
      requireSlackCredentials(parseConfig({ slack: { mode: 'http', signingSecret: 'super-secret-value' } })),
    );
    expect(err.message).not.toContain('super-secret-value');
    expect(err.message).toContain('slack.botToken');
  });
});
