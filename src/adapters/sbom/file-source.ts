import { readFile, stat } from 'node:fs/promises';
import type { FoundSbom, ImageKey, SbomSource } from '../../domain/advisories/ports.ts';
import { parseSbom } from '../../domain/advisories/sbom.ts';
import type { Logger } from '../../log.ts';

export type SbomFileEntry = { digest?: string; repository?: string; path: string };

/**
 * SBOM files configured per image digest (exact) or repository (any tag, used when no digest entry
 * exists). Parsed files are cached until their size or modification time changes.
 */
export class FileSbomSource implements SbomSource {
  readonly #entries: readonly SbomFileEntry[];
  readonly #log: Logger | undefined;
  readonly #cache = new Map<string, { stamp: string; found: FoundSbom | undefined }>();

  constructor(entries: readonly SbomFileEntry[], log?: Logger) {
    this.#entries = entries;
    this.#log = log;
  }

  async sbomFor(image: ImageKey): Promise<FoundSbom | undefined> {
    const entry =
      (image.digest ? this.#entries.find((e) => e.digest === image.digest) : undefined) ??
      (image.repository ? this.#entries.find((e) => e.repository === image.repository) : undefined);
    return entry ? this.#load(entry.path) : undefined;
  }

  async version(): Promise<string> {
    const stamps = await Promise.all(this.#entries.map((e) => stamp(e.path)));
    return stamps.join(',');
  }

  async #load(path: string): Promise<FoundSbom | undefined> {
    const s = await stamp(path);
    const cached = this.#cache.get(path);
    if (cached && cached.stamp === s) return cached.found;
    let found: FoundSbom | undefined;
    try {
      const sbom = parseSbom(JSON.parse(await readFile(path, 'utf8')), path);
      found = { sbom, origin: `file ${path}` };
      if (sbom.problems.length)
        this.#log?.warn({ path, problems: sbom.problems.slice(0, 5) }, 'SBOM entries skipped');
    } catch (err) {
      this.#log?.warn({ path, err: (err as Error).message }, 'cannot read SBOM file');
      found = undefined;
    }
    this.#cache.set(path, { stamp: s, found });
    return found;
  }
}

async function stamp(path: string): Promise<string> {
  try {
    const s = await stat(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}
