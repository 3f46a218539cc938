import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('the demo: freeze with a second approver, then unfreeze', () => {
  it('press Freeze, the second demo user approves, the card updates, unfreeze restores', async () => {
    const script = ['/scope freeze prod-eu/payments', 'approve', 'press 1', 'approve', '/scope frozen'].join(
      ';',
    );
    const { stdout } = await run(
      process.execPath,
      ['src/main.ts', 'demo', '--script', script, '--no-color'],
      {
        timeout: 90_000,
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    expect(stdout).toContain('FREEZE DEPLOYS — WAITING FOR APPROVAL');
    expect(stdout).toContain('spec.paused: (unset) → true');
    expect(stdout).toContain('FREEZE DEPLOYS — DONE');
    expect(stdout).toContain('Approvals: @U0SECOND (1 of 1 needed)');
    expect(stdout).toContain('UNFREEZE — DONE');
    expect(stdout).toContain('No active freezes');
  }, 120_000);

  it('breach: quarantine approved by the second user, then a new prod-eu pod runs the digest anyway and the alert says how', async () => {
    const { stdout } = await run(
      process.execPath,
      ['src/main.ts', 'demo', '--script', 'breach', '--no-color'],
      {
        timeout: 90_000,
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    expect(stdout).toContain('QUARANTINE — PARTLY DONE');
    expect(stdout).toContain('QUARANTINED DIGEST STARTED RUNNING ANYWAY');
    expect(stdout).toMatch(
      /1 pod\(s\) of Deployment\/api in prod-eu\/payments \(prod\) started running sha256:/,
    );
    expect(stdout).toContain("which the quarantine's policy rejects, yet it was admitted");
    expect(stdout).toMatch(
      /pod api-7d9f8c6b5a-breach\w+: api \(app, registry\.example\.com\/platform\/payments-api:2\.4\.0/,
    );
    expect(stdout).toContain('Freeze Deployment/api');
  }, 120_000);
});
