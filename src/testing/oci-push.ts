import { createHash, randomBytes } from 'node:crypto';
import {
  COSIGN_SIMPLE_SIGNING,
  DOCKER_MANIFEST,
  DSSE_ENVELOPE,
  OCI_EMPTY,
  OCI_INDEX,
  OCI_MANIFEST,
} from '../adapters/oci/media-types.ts';

/** Writes images and signature artifacts into a registry over the distribution API, as cosign and crane do. */
export type Pushed = { digest: string; size: number; mediaType: string; bytes: Buffer };

/** Push a manifest under its own digest (untagged), as referrers are. */
export const BY_DIGEST = '@digest';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export class OciPusher {
  readonly base: string;
  constructor(baseUrl: string) {
    this.base = baseUrl.replace(/\/$/, '');
  }

  /** POST then PUT (distribution 2.8 does not store single-request uploads). */
  async blob(repo: string, bytes: Buffer): Promise<{ digest: string; size: number }> {
    const digest = sha(bytes);
    const start = await fetch(`${this.base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    await start.body?.cancel();
    if (start.status !== 202) throw new Error(`blob upload start: HTTP ${start.status}`);
    const loc = new URL(start.headers.get('location') as string, this.base);
    loc.searchParams.set('digest', digest);
    const put = await fetch(loc, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array(bytes),
    });
    await put.body?.cancel();
    if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status}`);
    return { digest, size: bytes.length };
  }

  async manifest(repo: string, reference: string, json: object, mediaType: string): Promise<Pushed> {
    const bytes = Buffer.from(JSON.stringify(json));
    const ref = reference === BY_DIGEST ? sha(bytes) : reference;
    const res = await fetch(`${this.base}/v2/${repo}/manifests/${ref}`, {
      method: 'PUT',
      headers: { 'content-type': mediaType },
      body: new Uint8Array(bytes),
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`manifest ${repo}:${reference}: HTTP ${res.status} ${text}`);
    return { digest: sha(bytes), size: bytes.length, mediaType, bytes };
  }

  /** A small, distinct image (random layer) tagged `tag`; returns its manifest. */
  async image(repo: string, tag: string, opts: { docker?: boolean } = {}): Promise<Pushed> {
    const config = await this.blob(
      repo,
      Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          rootfs: { type: 'layers', diff_ids: [] },
          n: randomBytes(8).toString('hex'),
        }),
      ),
    );
    const layer = await this.blob(repo, randomBytes(64));
    const mt = opts.docker ? DOCKER_MANIFEST : OCI_MANIFEST;
    const m = {
      schemaVersion: 2,
      mediaType: mt,
      config: {
        mediaType: opts.docker
          ? 'application/vnd.docker.container.image.v1+json'
          : 'application/vnd.oci.image.config.v1+json',
        ...config,
      },
      layers: [
        {
          mediaType: opts.docker
            ? 'application/vnd.docker.image.rootfs.diff.tar.gzip'
            : 'application/vnd.oci.image.layer.v1.tar+gzip',
          ...layer,
        },
      ],
    };
    return this.manifest(repo, tag, m, mt);
  }

  /** A multi-arch index over the given platform manifests. */
  async index(repo: string, tag: string, children: Array<{ pushed: Pushed; arch: string }>): Promise<Pushed> {
    return this.manifest(
      repo,
      tag,
      {
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: children.map((c) => ({
          mediaType: c.pushed.mediaType,
          digest: c.pushed.digest,
          size: c.pushed.size,
          platform: { os: 'linux', architecture: c.arch },
        })),
      },
      OCI_INDEX,
    );
  }

  /** An OCI 1.1 referrer: a manifest with `subject` and `artifactType` holding one bundle layer. */
  async referrer(repo: string, subject: Pushed, artifactType: string, content: Buffer): Promise<Pushed> {
    const empty = await this.blob(repo, Buffer.from('{}'));
    const layer = await this.blob(repo, content);
    return this.manifest(
      repo,
      BY_DIGEST,
      {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType,
        config: { mediaType: OCI_EMPTY, ...empty },
        layers: [{ mediaType: artifactType, ...layer }],
        subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      },
      OCI_MANIFEST,
    );
  }

  /** The referrers tag-schema fallback: an index at `sha256-<hex>` listing referrer manifests. */
  async referrersTag(
    repo: string,
    subjectDigest: string,
    referrers: Array<{ pushed: Pushed; artifactType: string }>,
  ): Promise<Pushed> {
    return this.manifest(
      repo,
      `sha256-${subjectDigest.slice(7)}`,
      {
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: referrers.map((r) => ({
          mediaType: r.pushed.mediaType,
          digest: r.pushed.digest,
          size: r.pushed.size,
          artifactType: r.artifactType,
        })),
      },
      OCI_INDEX,
    );
  }

  /** cosign's classic `sha256-<hex>.sig` manifest: simple-signing layers with signature annotations. */
  async cosignSig(
    repo: string,
    subjectDigest: string,
    layers: Array<{ payload: Buffer; annotations: Record<string, string> }>,
  ): Promise<Pushed> {
    return this.cosignManifest(
      repo,
      `sha256-${subjectDigest.slice(7)}.sig`,
      COSIGN_SIMPLE_SIGNING,
      layers.map((l) => ({ content: l.payload, annotations: l.annotations })),
    );
  }

  /** cosign's classic `sha256-<hex>.att` manifest: DSSE envelope layers. */
  async cosignAtt(
    repo: string,
    subjectDigest: string,
    layers: Array<{ envelope: object; annotations: Record<string, string> }>,
  ): Promise<Pushed> {
    return this.cosignManifest(
      repo,
      `sha256-${subjectDigest.slice(7)}.att`,
      DSSE_ENVELOPE,
      layers.map((l) => ({ content: Buffer.from(JSON.stringify(l.envelope)), annotations: l.annotations })),
    );
  }

  async cosignManifest(
    repo: string,
    tag: string,
    mediaType: string,
    layers: Array<{ content: Buffer; annotations: Record<string, string> }>,
  ): Promise<Pushed> {
    const config = await this.blob(repo, Buffer.from('{}'));
    const pushed = [];
    for (const l of layers)
      pushed.push({ mediaType, ...(await this.blob(repo, l.content)), annotations: l.annotations });
    return this.manifest(
      repo,
      tag,
      {
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: pushed,
      },
      OCI_MANIFEST,
    );
  }
}
