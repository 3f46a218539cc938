import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const FIX = 'test/fixtures/advisories';

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['src/main.ts', 'cli', 'sbom-check', ...args], {
      env: { ...process.env, SCOPE_CONFIG: '', NO_COLOR: '1' },
      timeout: 30_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('scope cli sbom-check (offline CI gate)', { timeout: 60_000 }, () => {
  it('finds exactly the expected matches in CycloneDX and SPDX files, and none of the near-misses', async () => {
    const r = await cli(
      '--feed',
      `${FIX}/osv`,
      '--ioc',
      `${FIX}/iocs.csv`,
      `${FIX}/app.cdx.json`,
      `${FIX}/worker.spdx.json`,
      '--json',
    );
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.schema).toBe('scope.cli/v1');
    expect(out.ok).toBe(true);
    const matches = out.result.report.matches.map(
      (m: { sbom: string; purl: string; version: string; advisory: string }) =>
        `${m.sbom.split('/').pop()} ${m.purl} ${m.version} ${m.advisory}`,
    );
    expect(matches).toEqual([
      'app.cdx.json pkg:npm/core@17.0.1 17.0.1 GHSA-ng00-core-0001',
      'app.cdx.json pkg:npm/event-stream@3.3.6 3.3.6 GHSA-event-strm-0001',
      'app.cdx.json pkg:npm/flatmap-stream@0.1.1 0.1.1 MAL-2018-0001',
      'app.cdx.json pkg:npm/left-pad@1.3.0 1.3.0 IOC-left-pad-hash',
      'worker.spdx.json pkg:deb/debian/xz-utils@5.6.0-0.2 5.6.0-0.2 DSA-xz-backdoor',
      'worker.spdx.json pkg:pypi/ctx@0.2.6 0.2.6 MAL-2022-ctx',
      'worker.spdx.json pkg:pypi/typing-extensions@4.8.0 4.8.0 PYSEC-typing-ext',
    ]);
    // Debian:13 advisory, SBOM without a distro qualifier: matched, and the release is said to be unchecked.
    const xz = out.result.report.matches.find((m: { advisory: string }) => m.advisory === 'DSA-xz-backdoor');
    expect(xz.releaseUnchecked).toEqual({ ecosystem: 'Debian:13', why: 'no-distro' });
    expect(out.completeness).toBe('complete');
    expect(out.result.report.signerIndicators).toEqual({ count: 0, advisories: [] });
    const problems = out.result.report.problems.map((p: { record: string }) => p.record);
    expect(problems).toEqual(expect.arrayContaining(['GHSA-malformed', 'IOC-bad-length (line 4)']));
    expect(
      out.result.report.sboms.map(
        (s: { format: string; specVersion: string }) => `${s.format} ${s.specVersion}`,
      ),
    ).toEqual(['cyclonedx 1.6', 'spdx 2.3']);
  });

  it('exits 0 when nothing matches and prints a terminal summary', async () => {
    const r = await cli('--feed', `${FIX}/osv/MAL-2018-event-stream.json`, `${FIX}/worker.spdx.json`);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sbom-check: no matches');
  });

  it('says signer-identity IOCs cannot be checked from an SBOM (partial, never silently skipped)', async () => {
    const args = ['--ioc', `${FIX}/signer-iocs.json`, '--feed', `${FIX}/osv`, `${FIX}/worker.spdx.json`];
    const text = await cli(...args);
    expect(text.stdout).toContain('release not checked: the advisory is for Debian:13');
    expect(text.stdout).toContain(
      '1 signer-identity indicator (IOC-stolen-release-identity) was NOT checked: an SBOM does not say who signed the image',
    );
    const json = JSON.parse((await cli(...args, '--json')).stdout);
    expect(json.completeness).toBe('partial');
    expect(json.result.report.signerIndicators).toEqual({
      count: 1,
      advisories: ['IOC-stolen-release-identity'],
    });
  });

  it('exits 2 with a clear error on an unreadable SBOM', async () => {
    const r = await cli('--feed', `${FIX}/osv`, `${FIX}/missing.json`, '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toContain('missing.json cannot be read');
  });
});
