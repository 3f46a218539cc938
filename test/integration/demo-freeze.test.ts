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
});
