import { expect, test } from 'vitest';
import { runVerifyDemo } from '../../../demo/verify.ts';

test('the verification demo tells the story: invalid, untrusted, unsigned and verified apart', async () => {
  const lines: string[] = [];
  expect(await runVerifyDemo((s) => lines.push(s))).toBe(0);
  const out = lines.join('\n');
  expect(out).toContain('3 of 5 running digests in env:prod are not verified');
  expect(out).toContain('invalid signature');
  expect(out).toContain('https://github.com/attacker/fork/.github/workflows/release.yml@refs/heads/main');
  expect(out).toContain('no signature found; looked at OCI referrers API (unsupported)');
  expect(out).toContain('by key vendor-2026');
}, 60_000);
