import type { FoundSbom, ImageKey, SbomSource } from '../../domain/advisories/ports.ts';
import { parseSbom } from '../../domain/advisories/sbom.ts';
import type { Logger } from '../../log.ts';
import { discoverSignatures } from '../oci/discover.ts';
import { type RegistryClient, RegistryError } from '../oci/registry-client.ts';

const SBOM_PREDICATES = [
  /^https:\/\/cyclonedx\.org\/bom(\/v?[\d.]+)?$/,
  /^https:\/\/spdx\.dev\/Document(\/v?[\d.]+)?$/,
];

/**
 * SBOMs attached to an image in its registry: in-toto attestations (cosign `.att`, or Sigstore bundles found
 * through the referrers API / tag) whose predicate type is CycloneDX or SPDX and whose subject is the image
 * digest. The attestation's signature is not verified here (`/scope verify` does that): the SBOM is used
 * as inventory data, like an SBOM file, never as proof.
 */
export class RegistrySbomSource implements SbomSource {
  readonly #client: RegistryClient;
  readonly #log: Logger | undefined;

  constructor(client: RegistryClient, log?: Logger) {
    this.#client = client;
    this.#log = log;
  }

  async sbomFor(image: ImageKey): Promise<FoundSbom | undefined> {
    if (!image.digest || !image.repository) return undefined;
    const slash = image.repository.indexOf('/');
    if (slash <= 0) return undefined;
    const repo = {
      registry: image.repository.slice(0, slash),
      repository: image.repository.slice(slash + 1),
    };
    let found: Awaited<ReturnType<typeof discoverSignatures>>['found'];
    try {
      ({ found } = await discoverSignatures(this.#client, repo, image.digest, {
        paths: ['cosign-att', 'referrers-api', 'referrers-tag'],
      }));
    } catch (err) {
      if (!(err instanceof RegistryError)) throw err;
      this.#log?.warn(
        { repository: image.repository, err: err.message },
        'cannot look for SBOM attestations',
      );
      return undefined;
    }
    for (const f of found) {
      const envelope =
        f.form === 'cosign-att'
          ? f.envelope
          : f.form === 'bundle'
            ? (f.bundle as { dsseEnvelope?: unknown }).dsseEnvelope
            : undefined;
      const statement = decodeStatement(envelope);
      if (!statement || !SBOM_PREDICATES.some((p) => p.test(statement.predicateType))) continue;
      if (!statement.subjects.includes(image.digest)) {
        this.#log?.warn(
          { repository: image.repository, digest: image.digest },
          'SBOM attestation about another digest ignored',
        );
        continue;
      }
      try {
        const sbom = parseSbom(statement.predicate, `${image.repository}@${image.digest} (${f.reference})`);
        return { sbom, origin: `registry attestation ${image.repository}:${f.reference}` };
      } catch (err) {
        this.#log?.warn(
          { repository: image.repository, err: (err as Error).message },
          'SBOM attestation not usable',
        );
      }
    }
    return undefined;
  }

  /** Attestations are looked up once per image while it stays in the fleet. */
  async version(): Promise<string> {
    return 'registry';
  }
}

function decodeStatement(
  envelope: unknown,
): { predicateType: string; predicate: unknown; subjects: string[] } | undefined {
  const payload = (envelope as { payload?: unknown } | undefined)?.payload;
  if (typeof payload !== 'string') return undefined;
  let st: { predicateType?: unknown; predicate?: unknown; subject?: unknown };
  try {
    st = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof st.predicateType !== 'string' || !Array.isArray(st.subject)) return undefined;
  const subjects = (st.subject as Array<{ digest?: { sha256?: unknown } }>)
    .map((s) => s?.digest?.sha256)
    .filter((h): h is string => typeof h === 'string')
    .map((h) => `sha256:${h.toLowerCase()}`);
  return { predicateType: st.predicateType, predicate: st.predicate, subjects };
}

/** Tries each source in order (registry attestations first, then configured files). */
export class FirstSbomSource implements SbomSource {
  readonly #sources: readonly SbomSource[];
  constructor(sources: readonly SbomSource[]) {
    this.#sources = sources;
  }
  async sbomFor(image: ImageKey): Promise<FoundSbom | undefined> {
    for (const s of this.#sources) {
      const found = await s.sbomFor(image);
      if (found) return found;
    }
    return undefined;
  }
  async version(): Promise<string> {
    return (await Promise.all(this.#sources.map((s) => s.version()))).join('|');
  }
}
