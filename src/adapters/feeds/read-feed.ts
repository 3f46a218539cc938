import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ParseOutcome } from '../../domain/advisories/model.ts';
import { ScopeError } from '../../errors.ts';
import type { FeedConfig } from './config.ts';
import { parseFeedContent } from './content.ts';
import { fetchFeed, type UrlPolicy, type Validators } from './fetch.ts';

/** What reading a feed gave: nothing new since `previous`, or the parsed records and new validators. */
export type FeedRead =
  | { unchanged: true }
  | { unchanged: false; outcome: ParseOutcome; validators: Validators };

const FEED_FILE = /\.(json|csv|zip)$/i;

/** Reads one configured feed (directory, file or URL); local sources use size+mtime as their validator. */
export async function readFeed(
  feed: FeedConfig,
  policy: UrlPolicy,
  previous: Validators,
  signal?: AbortSignal,
): Promise<FeedRead> {
  if (feed.url !== undefined) {
    const res = await fetchFeed(feed.url, policy, previous, {
      maxBytes: feed.maxMegabytes * 1024 * 1024,
      ...(signal ? { signal } : {}),
    });
    if (res.notModified) return { unchanged: true };
    const name = new URL(feed.url).pathname;
    return {
      unchanged: false,
      outcome: parseFeedContent(feed.kind, name, res.bytes, feed.name),
      validators: res.validators,
    };
  }
  const path = feed.path as string;
  const files = await listFiles(path);
  const stamps = await Promise.all(
    files.map(async (f) => {
      const st = await stat(f);
      return `${f}:${st.size}:${st.mtimeMs}`;
    }),
  );
  const etag = `local:${hash(stamps.join('\n'))}`;
  if (previous.etag === etag) return { unchanged: true };
  const outcome: ParseOutcome = { advisories: [], problems: [] };
  for (const f of files) {
    signal?.throwIfAborted();
    const r = parseFeedContent(feed.kind, f, await readFile(f), feed.name);
    outcome.advisories.push(...r.advisories);
    outcome.problems.push(
      ...r.problems.map((p) =>
        p.record.startsWith('#') || p.record.startsWith('line') ? { ...p, record: `${f} ${p.record}` } : p,
      ),
    );
  }
  return { unchanged: false, outcome, validators: { etag } };
}

async function listFiles(path: string): Promise<string[]> {
  let s: Awaited<ReturnType<typeof stat>>;
  try {
    s = await stat(path);
  } catch (err) {
    throw new ScopeError('NOT_FOUND', `feed path ${path} cannot be read: ${(err as Error).message}`);
  }
  if (!s.isDirectory()) return [path];
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && FEED_FILE.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

function hash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 32);
}
