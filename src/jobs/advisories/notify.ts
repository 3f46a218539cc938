import { diffMatches } from '../../domain/advisories/changes.ts';
import {
  type Finding,
  findingKey,
  neverVerified,
  type SignerCoverage,
} from '../../domain/advisories/match.ts';
import type { Advisory } from '../../domain/advisories/model.ts';
import type { AdvisoryPoster } from '../../domain/advisories/ports.ts';
import type { Logger } from '../../log.ts';
import { presentAdvisoryAlert, presentChangeNote } from '../../render/advisories/present-alert.ts';
import type { Message } from '../../render/message.ts';
import type { Subscription } from '../../store/advisories/advisory-store.ts';
import type { NotificationStore } from '../../store/advisories/notification-store.ts';

const CLAIM_MS = 60_000;

export type NotifyPorts = {
  poster: AdvisoryPoster;
  notes: NotificationStore;
  log: Logger;
  now?: () => Date;
  /** Adds the action buttons (offers stored server-side) to an alert before it is posted or updated. */
  decorate?: (
    channel: string,
    advisory: Advisory,
    findings: readonly Finding[],
    message: Message,
  ) => Promise<Message>;
};
export type NotifyOutcome = {
  posted: number;
  updated: number;
  unchanged: number;
  skipped: number;
  failed: number;
};

/** One advisory's match as notifications need it: the fingerprint and count now, the findings on demand. */
export type MatchedAdvisory = {
  advisory: Advisory;
  fingerprint: string;
  total: number;
  findings: () => readonly Finding[];
  /** Set when the advisory names signer identities: digests never verified are said, never silent. */
  signers?: SignerCoverage;
};

/**
 * Brings every subscribed channel's notifications in line with the current matches: one message per
 * advisory that matches, posted once, updated in place (plus a threaded note) when its match set changes.
 *
 * Exactly-once: a Redis claim (SET NX PX) per (channel, advisory) lets one worker at a time act; the record
 * is re-read under the claim; a `posting` marker is written before chat.postMessage and the ts right after.
 * If a worker dies between Slack accepting the post and recording its ts, the next one finds the marker and
 * looks for the message by its metadata key before posting again (see docs/ARCHITECTURE.md).
 */
export async function reconcileNotifications(
  subs: readonly Subscription[],
  matched: readonly MatchedAdvisory[],
  ports: NotifyPorts,
): Promise<NotifyOutcome> {
  const out: NotifyOutcome = { posted: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0 };
  for (const sub of subs) {
    const records = await ports.notes.all(sub.channel);
    for (const { advisory, fingerprint, total, findings, signers } of matched) {
      if (sub.feeds !== 'all' && !sub.feeds.includes(advisory.source)) continue;
      const rec = records.get(advisory.id);
      // "Unknown" is news too: an advisory naming a signer is posted while digests cannot be decided for it.
      if (!rec && total === 0 && neverVerified(signers) === 0) continue;
      if (rec?.state === 'posted' && rec.fingerprint === fingerprint) {
        out.unchanged++;
        continue;
      }
      try {
        out[await reconcileOne(sub.channel, advisory, findings(), fingerprint, ports, signers)]++;
      } catch (err) {
        // One channel or message failing (bot removed, Slack down) never blocks the others; the next
        // re-match tries again from the recorded state.
        out.failed++;
        ports.log.warn(
          { err, channel: sub.channel, advisory: advisory.id },
          'advisory notification failed; will retry',
        );
      }
    }
  }
  return out;
}

async function reconcileOne(
  channel: string,
  advisory: Advisory,
  findings: readonly Finding[],
  fingerprint: string,
  ports: NotifyPorts,
  signers?: SignerCoverage,
): Promise<keyof NotifyOutcome> {
  const { notes, poster, log } = ports;
  const token = await notes.claim(channel, advisory.id, CLAIM_MS);
  if (!token) return 'skipped';
  try {
    const now = ports.now?.() ?? new Date();
    const rec = await notes.get(channel, advisory.id);
    if (rec?.state === 'posted' && rec.fingerprint === fingerprint) return 'unchanged';
    const keys = findings.map(findingKey);
    const plain = presentAdvisoryAlert(advisory, findings, now, signers);
    const message = ports.decorate ? await ports.decorate(channel, advisory, findings, plain) : plain;
    const key = `${channel}:${advisory.id}`;
    let ts = rec?.ts;
    if (!ts && rec?.state === 'posting') {
      ts = await poster.findPosted(channel, key);
      log.warn(
        { channel, advisory: advisory.id, recovered: !!ts },
        'found an unfinished advisory post (crash window)',
      );
    }
    if (!ts) {
      if (findings.length === 0 && neverVerified(signers) === 0) return 'unchanged';
      await notes.put(channel, advisory.id, { state: 'posting', fingerprint, keys, at: now.toISOString() });
      const posted = await poster.post(channel, message, key);
      await notes.put(channel, advisory.id, {
        state: 'posted',
        ts: posted.ts,
        fingerprint,
        keys,
        at: now.toISOString(),
      });
      log.info({ channel, advisory: advisory.id, matches: findings.length }, 'advisory notification posted');
      return 'posted';
    }
    await poster.update(channel, ts, message);
    const base = { state: 'posted' as const, ts, fingerprint, keys, at: now.toISOString() };
    if (rec && rec.state === 'posted' && rec.noteFor !== fingerprint) {
      // At most one note per change: mark it first, so a crash after the post never repeats it.
      await notes.put(channel, advisory.id, { ...rec, noteFor: fingerprint });
      await poster.reply(
        channel,
        ts,
        presentChangeNote(advisory, diffMatches(rec.keys, findings), now, signers),
      );
    }
    await notes.put(channel, advisory.id, { ...base, noteFor: fingerprint });
    log.info({ channel, advisory: advisory.id, matches: findings.length }, 'advisory notification updated');
    return 'updated';
  } finally {
    await notes.release(channel, advisory.id, token);
  }
}
