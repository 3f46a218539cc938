import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/adapters/oci/registry-client.ts';
import { FileSbomSource } from '../../../src/adapters/sbom/file-source.ts';
import { FirstSbomSource, RegistrySbomSource } from '../../../src/adapters/sbom/registry-source.ts';
import { ComponentIndex } from '../../../src/domain/advisories/match.ts';
import { parseOsvRecord } from '../../../src/domain/advisories/osv.ts';
import { OciPusher } from '../../../src/testing/oci-push.ts';
import { type OciRegistry, startOciRegistry } from '../../../src/testing/oci-registry.ts';

const DSSE = 'application/vnd.dsse.envelope.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** Pushes a cosign-style attestation manifest (`sha256-<hex>.att`) with one DSSE layer holding `statement`. */
async function attach(push: OciPusher, repo: string, digest: string, statement: object): Promise<void> {
  const envelope = {
    payloadType: 'application/vnd.in-toto+json',
    payload: Buffer.from(JSON.stringify(statement)).toString('base64'),
    signatures: [{ sig: 'bm90LWNoZWNrZWQtaGVyZQ==' }],
  };
  const layer = await push.blob(repo, Buffer.from(JSON.stringify(envelope)));
  const config = await push.blob(repo, Buffer.from('{}'));
  await push.manifest(
    repo,
    `sha256-${digest.slice(7)}.att`,
    {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: DSSE, ...layer }],
    },
    OCI_MANIFEST,
  );
}

describe('SBOM attestations in a real registry (docker-registry)', () => {
  let registry: OciRegistry;
  beforeAll(async () => {
    registry = await startOciRegistry();
  });
  afterAll(async () => {
    await registry?.stop();
  });

  it('an SBOM attached to an image makes a package advisory match; an attestation about another digest does not', async () => {
    const push = new OciPusher(registry.url);
    const app = await push.image('shop/app', '2.4.0');
    const other = await push.image('shop/app', '2.3.0');
    const bom = JSON.parse(await readFile('test/fixtures/advisories/app.cdx.json', 'utf8'));
    await attach(push, 'shop/app', app.digest, {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: `${registry.host}/shop/app`, digest: { sha256: app.digest.slice(7) } }],
      predicateType: 'https://cyclonedx.org/bom',
      predicate: bom,
    });
    // Attached to 2.3.0's tag but claiming to describe 2.4.0: not used for 2.3.0.
    await attach(push, 'shop/app', other.digest, {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'x', digest: { sha256: app.digest.slice(7) } }],
      predicateType: 'https://cyclonedx.org/bom',
      predicate: bom,
    });
    const client = new RegistryClient({
      registries: [{ host: registry.host, endpoint: registry.url, retries: 0 }],
    });
    const source = new FirstSbomSource([new RegistrySbomSource(client), new FileSbomSource([])]);
    const repository = `${registry.host}/shop/app`;
    const found = await source.sbomFor({ digest: app.digest, repository, tag: '2.4.0' });
    expect(found?.origin).toContain(`.att`);
    expect(found?.sbom.components.map((c) => c.name)).toContain('flatmap-stream');
    expect(await source.sbomFor({ digest: other.digest, repository })).toBeUndefined();

    const index = new ComponentIndex();
    index.add(app.digest, found?.sbom ?? { components: [] });
    const adv = parseOsvRecord(
      {
        id: 'MAL-2018-0001',
        modified: '2026-11-01T00:00:00Z',
        affected: [
          {
            package: { ecosystem: 'npm', name: 'flatmap-stream' },
            ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }] }],
          },
        ],
      },
      'osv',
    );
    if ('why' in adv) throw new Error(adv.why);
    expect(index.match(adv).map((m) => `${m.sbom} ${m.component.purl}`)).toEqual([
      `${app.digest} pkg:npm/flatmap-stream@0.1.1`,
    ]);
  });
});
