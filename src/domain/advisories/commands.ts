import { UserFacingError } from '../../errors.ts';
import { isDigest, parseImageRef, repositoryKey } from '../inventory/image-ref.ts';
import type { ImageKey } from './ports.ts';

/** Commands of the advisory capability, parsed (see COMMANDS in domain/command.ts). */
export type AdvisoryCommand =
  | { name: 'advisories' }
  | { name: 'advisory'; id: string }
  | { name: 'diff'; good: ImageKey & { label: string }; suspicious: ImageKey & { label: string } }
  | { name: 'watch'; feed: string }
  | { name: 'unwatch'; feed: string };

const ADVISORY_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const FEED = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function parseAdvisoryId(s: string): string {
  const id = s.trim().replace(/^`+|`+$/g, '');
  if (!ADVISORY_ID.test(id)) {
    throw new UserFacingError(
      'BAD_INPUT',
      `"${id.slice(0, 40)}" is not an advisory id (e.g. GHSA-xxxx-xxxx-xxxx, MAL-2025-1234).`,
    );
  }
  return id;
}

export function parseFeedArg(s: string | undefined): string {
  const f = (s ?? 'all').trim().toLowerCase();
  if (f !== 'all' && !FEED.test(f))
    throw new UserFacingError(
      'BAD_INPUT',
      `"${f.slice(0, 40)}" is not a feed name; give a feed name or \`all\`.`,
    );
  return f;
}

/** An image for `/scope diff`: a digest, or a reference (repo:tag or repo@sha256:…). */
export function parseImageArg(s: string): ImageKey & { label: string } {
  const t = s.trim().replace(/^`+|`+$/g, '');
  if (isDigest(t.toLowerCase())) return { digest: t.toLowerCase(), label: t.toLowerCase() };
  const ref = parseImageRef(t);
  return {
    repository: repositoryKey(ref),
    ...(ref.tag ? { tag: ref.tag } : {}),
    ...(ref.digest ? { digest: ref.digest } : {}),
    label: t,
  };
}
