import { readFile } from 'node:fs/promises';
import type { AdvisoriesConfig } from '../../adapters/feeds/config.ts';
import { readFeed } from '../../adapters/feeds/read-feed.ts';
import type { ReleaseUnchecked } from '../../domain/advisories/component-index.ts';
import { ComponentIndex } from '../../domain/advisories/match.ts';
import type { Advisory, ParseProblem, Severity } from '../../domain/advisories/model.ts';
import { parseSbom } from '../../domain/advisories/sbom.ts';
import { UserFacingError } from '../../errors.ts';

/** One component of one SBOM file that an advisory names. */
export type SbomCheckMatch = {
  sbom: string;
  purl?: string;
  name: string;
  version?: string;
  advisory: string;
  severity: Severity;
  title: string;
  via: 'package' | 'artifact-hash';
  certainty: 'affected' | 'unknown';
  /** The advisory names a distribution release the SBOM does not let scope check. */
  releaseUnchecked?: ReleaseUnchecked;
};

export type SbomCheckReport = {
  sboms: Array<{ path: string; format: string; specVersion: string; components: number; problems: number }>;
  feeds: Array<{ name: string; advisories: number; problems: number }>;
  advisories: number;
  matches: SbomCheckMatch[];
  /**
   * Signer-identity indicators loaded: an SBOM does not say who signed the image, so they cannot be checked
   * here (said in the output, never skipped silently); `/scope verify` records signers for the re-match.
   */
  signerIndicators: { count: number; advisories: string[] };
  problems: ParseProblem[];
};

/**
 * `scope cli sbom-check`: matches SBOM files against OSV/IOC feeds offline (no Redis, no Slack) — a gate
 * a CI pipeline runs before deploying. Feeds come from --feed/--ioc paths, else from the configuration.
 */
export async function sbomCheck(opts: {
  sbomFiles: readonly string[];
  feedPaths: readonly string[];
  iocPaths: readonly string[];
  config: AdvisoriesConfig;
}): Promise<SbomCheckReport> {
  if (opts.sbomFiles.length === 0)
    throw new UserFacingError(
      'BAD_INPUT',
      'No SBOM file given.',
      'Usage: scope cli sbom-check [--feed PATH]… [--ioc FILE]… <sbom-file>… [--json]',
    );
  const sources =
    opts.feedPaths.length || opts.iocPaths.length
      ? [
          ...opts.feedPaths.map((p) => ({ name: p, kind: 'osv' as const, path: p })),
          ...opts.iocPaths.map((p) => ({ name: p, kind: 'ioc' as const, path: p })),
        ].map((f) => ({ ...f, intervalSeconds: 3600, enabled: true, maxMegabytes: 4096 }))
      : opts.config.feeds.filter((f) => f.enabled);
  if (sources.length === 0) {
    throw new UserFacingError(
      'BAD_INPUT',
      'No feed to check against.',
      'Give --feed PATH (OSV) or --ioc FILE, or configure advisories.feeds.',
    );
  }
  const report: SbomCheckReport = {
    sboms: [],
    feeds: [],
    advisories: 0,
    matches: [],
    signerIndicators: { count: 0, advisories: [] },
    problems: [],
  };
  const advisories: Advisory[] = [];
  for (const f of sources) {
    let read: Awaited<ReturnType<typeof readFeed>>;
    try {
      read = await readFeed(f, opts.config, {});
    } catch (err) {
      throw new UserFacingError('BAD_INPUT', `Feed ${f.name} cannot be read: ${(err as Error).message}`);
    }
    if (read.unchanged) continue;
    advisories.push(...read.outcome.advisories);
    report.problems.push(...read.outcome.problems);
    report.feeds.push({
      name: f.name,
      advisories: read.outcome.advisories.length,
      problems: read.outcome.problems.length,
    });
  }
  report.advisories = advisories.length;
  for (const a of advisories) {
    if (a.withdrawn) continue;
    const n = a.indicators.filter((i) => i.kind === 'signer-identity').length;
    if (n === 0) continue;
    report.signerIndicators.count += n;
    report.signerIndicators.advisories.push(a.id);
  }
  const index = new ComponentIndex();
  for (const path of opts.sbomFiles) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new UserFacingError('BAD_INPUT', `SBOM ${path} cannot be read: ${(err as Error).message}`);
    }
    let sbom: ReturnType<typeof parseSbom>;
    try {
      sbom = parseSbom(JSON.parse(text), path);
    } catch (err) {
      throw new UserFacingError('BAD_INPUT', `SBOM ${path} is not usable: ${(err as Error).message}`);
    }
    index.add(path, sbom);
    report.problems.push(...sbom.problems);
    report.sboms.push({
      path,
      format: sbom.format,
      specVersion: sbom.specVersion,
      components: sbom.components.length,
      problems: sbom.problems.length,
    });
  }
  for (const a of advisories) {
    for (const m of index.match(a)) {
      report.matches.push({
        sbom: m.sbom,
        ...(m.component.purl ? { purl: m.component.purl } : {}),
        name: m.component.name,
        ...(m.component.version ? { version: m.component.version } : {}),
        advisory: a.id,
        severity: a.severity,
        title: a.title,
        via: m.via,
        certainty: m.certainty,
        ...(m.releaseUnchecked ? { releaseUnchecked: m.releaseUnchecked } : {}),
      });
    }
  }
  report.matches.sort(
    (x, y) =>
      x.sbom.localeCompare(y.sbom) ||
      (x.purl ?? x.name).localeCompare(y.purl ?? y.name) ||
      x.advisory.localeCompare(y.advisory),
  );
  return report;
}
