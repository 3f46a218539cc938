import { parseArgs } from 'node:util';
import type { Config } from '../config.ts';
import { isUserFacing } from '../errors.ts';

const USAGE = 'usage: scope cli sbom-check [--feed PATH]… [--ioc FILE]… <sbom-file>… [--json]';

/**
 * `scope cli sbom-check`: SBOM files against OSV feeds and IOC lists, offline (no Redis, no Slack).
 * Exit 0 no match, 1 at least one match, 2 bad input, 78 invalid configuration (docs/CONFIGURATION.md).
 */
export async function runSbomCheckCli(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const fail = (code: string, message: string, hint?: string) => {
    if (json)
      console.log(
        JSON.stringify(
          { schema: 'scope.cli/v1', ok: false, error: { code, message, ...(hint ? { hint } : {}) } },
          null,
          2,
        ),
      );
    else console.error(`scope: ${message}${hint ? `\n${hint}` : ''}`);
  };
  let values: { feed?: string[]; ioc?: string[]; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        feed: { type: 'string', multiple: true, default: [] },
        ioc: { type: 'string', multiple: true, default: [] },
      },
    }));
  } catch (err) {
    fail('BAD_INPUT', (err as Error).message, USAGE);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const { loadConfig } = await import('../config.ts');
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    fail('CONFIG_INVALID', (err as Error).message);
    return 78;
  }
  try {
    const { sbomCheck } = await import('../jobs/advisories/sbom-check.ts');
    const report = await sbomCheck({
      sbomFiles: positionals,
      feedPaths: values.feed ?? [],
      iocPaths: values.ioc ?? [],
      config: config.advisories,
    });
    if (json) {
      console.log(
        JSON.stringify(
          {
            schema: 'scope.cli/v1',
            ok: true,
            // Signer-identity indicators cannot be checked from an SBOM: the answer is partial then.
            completeness: report.signerIndicators.count > 0 ? 'partial' : 'complete',
            result: { kind: 'sbom-check', report },
          },
          null,
          2,
        ),
      );
    } else {
      const [{ presentSbomCheck }, { toTerminal }] = await Promise.all([
        import('../render/advisories/present-sbom-check.ts'),
        import('../render/terminal.ts'),
      ]);
      console.log(toTerminal(presentSbomCheck(report), { color: process.stdout.isTTY === true }));
    }
    return report.matches.length > 0 ? 1 : 0;
  } catch (err) {
    if (!isUserFacing(err)) throw err;
    fail(err.code, err.message, err.hint);
    return 2;
  }
}
