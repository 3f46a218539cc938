import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compromisedCiScenario } from '../../src/testing/cloudtrail-fixtures.ts';
import { type FakeAws, startFakeAws } from '../../src/testing/fake-aws/server.ts';

const run = promisify(execFile);
let fake: FakeAws;
let dir: string;

type Out = { code: number; stdout: string; stderr: string };

/** Only the standard AWS variables point the CLI at the stand-in: no scope setting names an endpoint. */
async function cli(env: Record<string, string>, ...args: string[]): Promise<Out> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
  try {
    const r = await run(process.execPath, ['src/main.ts', 'cli', 'audit', ...args], {
      env: { ...clean, NO_COLOR: '1', SCOPE_CONFIG: join(dir, 'scope.yaml'), ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const sc = compromisedCiScenario(new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'scope-cli-audit-'));
  fake = await startFakeAws({ lookupRatePerSecond: 10 });
  fake.cloudtrail.addRecords(sc.records);
  await writeFile(join(dir, 'scope.yaml'), 'aws:\n  audit:\n    requestsPerSecond: 10\n');
  await writeFile(
    join(dir, 'credentials'),
    '[incident]\naws_access_key_id = AKIAPROFILEEXAMPLE01\naws_secret_access_key = profile-secret-example\n',
  );
});
afterAll(async () => {
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('scope cli audit', { timeout: 90_000 }, () => {
  it('--json against the endpoint, profile and regions given by standard AWS environment variables', async () => {
    const out = await cli(
      {
        AWS_PROFILE: 'incident',
        AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
        AWS_CONFIG_FILE: join(dir, 'no-config'),
        AWS_REGION: 'eu-west-1',
        AWS_ENDPOINT_URL_CLOUDTRAIL: fake.endpoint,
        AWS_ENDPOINT_URL_STS: fake.endpoint,
        SCOPE_AWS_REGIONS: 'eu-west-1,us-east-1,ap-southeast-2',
      },
      'role:ci-deploy',
      '--json',
      '--out',
      join(dir, 'events'),
    );
    expect(out.stderr).not.toMatch(/Error/);
    expect(out.code).toBe(0);
    const doc = JSON.parse(out.stdout) as {
      schema: string;
      ok: boolean;
      result: {
        kind: string;
        report: {
          findings: { rule: string; severity: string; evidence: { eventIds: string[] } }[];
          credentials: { created: { accessKeyId: string }[] };
          counts: { regions: { region: string; events: number; pages: number; error?: string }[] };
          pages: number;
          throttles: number;
        };
      };
    };
    expect(doc.schema).toBe('scope.cli/v1');
    expect(doc.ok).toBe(true);
    const r = doc.result.report;
    expect(r.findings[0]?.severity).toBe('critical');
    expect(r.findings[0]?.evidence.eventIds).toEqual([sc.stopLoggingEventId]);
    expect(r.credentials.created.map((c) => c.accessKeyId)).toEqual([sc.createdKey.accessKeyId]);
    expect(r.counts.regions.map((x) => x.region)).toEqual(['eu-west-1', 'us-east-1', 'ap-southeast-2']);
    expect(r.counts.regions.every((x) => x.error === undefined && x.pages > 0)).toBe(true);
    expect(r.pages).toBe(r.counts.regions.reduce((s, x) => s + x.pages, 0));
    expect(r.throttles).toBe(0);
    expect(fake.count({ service: 'cloudtrail', keyId: 'AKIAPROFILEEXAMPLE01' })).toBe(r.pages);
    const csv = (await readFile(join(dir, 'events.csv'), 'utf8')).trim().split('\n');
    const jsonl = (await readFile(join(dir, 'events.jsonl'), 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(jsonl.length + 1);
  });

  it('says clearly when no region is known', async () => {
    const out = await cli({ AWS_ACCESS_KEY_ID: 'AKIAX', AWS_SECRET_ACCESS_KEY: 'x' }, 'user:alice', '--json');
    expect(out.code).toBe(78);
    expect(JSON.parse(out.stdout)).toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID' } });
  });

  it('refuses a bad principal or window with the usage', async () => {
    const out = await cli({ AWS_REGION: 'eu-west-1' }, 'alice', '--since', 'yesterday', '--json');
    expect(out.code).toBe(2);
    expect(JSON.parse(out.stdout)).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
  });
});
