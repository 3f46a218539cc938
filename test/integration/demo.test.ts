import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AGENT_ODD, COMPROMISED } from '../../demo/fleet.ts';

const run = promisify(execFile);

describe('the demo a newcomer runs first', () => {
  it('answers the story commands through the real bot, worker and collector', async () => {
    const script = [
      '/scope status',
      `/scope digest ${COMPROMISED}`,
      '/scope image registry.example.com/vendor/agent:5.2',
      `/scope digest ${AGENT_ODD.slice(7, 19)}`,
      '/scope where dev-1/payments/api',
      '/scope digets oops',
      '/scope advisories',
      '/scope audit role:ci-deploy',
    ].join(';');
    const { stdout } = await run(
      process.execPath,
      ['src/main.ts', 'demo', '--script', script, '--no-color'],
      {
        timeout: 60_000,
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    expect(stdout).toContain('prod-ap (prod) — last good sync never');
    expect(stdout).toMatch(/is running in 2 clusters, 2 namespaces, 2 workloads, 6 pods/);
    expect(stdout).toContain('DEV — earliest deployment 2026-11-18 11:00 UTC');
    expect(stdout).toContain('Tag drift');
    expect(stdout).toContain('first seen 2026-11-24 03:12 UTC');
    expect(stdout).toMatch(/Ran before[\s\S]*payments\/api \(deployment\) in dev-1/);
    expect(stdout).toContain('Did you mean /scope digest?');
    expect(stdout).toContain(
      'IOC-2026-0042 (critical) — Compromised payments-api base image · 2 workloads running it, 1 ran it before',
    );
    expect(stdout).toContain('CLOUDTRAIL AUDIT OF ROLE:CI-DEPLOY');
    expect(stdout).toMatch(/CRITICAL\s+StopLogging/);
    expect(stdout).toContain('Stopping the demo');
  });
});
