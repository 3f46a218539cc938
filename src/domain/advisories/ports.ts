import type { Message } from '../../render/message.ts';
import type { Sbom } from './sbom.ts';

/** An image as the inventory knows it: digest when the runtime reported one, repository and tag as written. */
export type ImageKey = { digest?: string; repository?: string; tag?: string };

/** An SBOM found for an image, and where it came from (file path, registry attestation…). */
export type FoundSbom = { sbom: Sbom; origin: string };

/**
 * Where SBOMs of images come from. Files configured per digest or repository now; the image's registry
 * (attestations / OCI referrers) plugs in behind the same port once the OCI client exists.
 */
export type SbomSource = {
  sbomFor(image: ImageKey): Promise<FoundSbom | undefined>;
  /** A cheap value that changes when the source's content may have changed (to reuse an index). */
  version(): Promise<string>;
};

/** Posts advisory notifications; the Slack adapter implements it (chat.postMessage / chat.update / thread). */
export type AdvisoryPoster = {
  /** Posts a new message carrying `key` in its metadata; returns its ts. */
  post(channel: string, message: Message, key: string): Promise<{ ts: string }>;
  update(channel: string, ts: string, message: Message): Promise<void>;
  reply(channel: string, threadTs: string, message: Message): Promise<void>;
  /** Finds a message posted earlier with this key (crash recovery); undefined when it cannot tell. */
  findPosted(channel: string, key: string): Promise<string | undefined>;
};
