import { type Digest, shortDigest } from '../../domain/inventory/image-ref.ts';
import {
  type DigestVerification,
  describeSigner,
  OUTCOME_LABEL,
  OUTCOME_ORDER,
  type OutcomeStatus,
  PATH_LABEL,
} from '../../domain/provenance/outcome.ts';
import type { VerifiedDigest, VerifyReport } from '../../jobs/provenance/verify-scope.ts';
import { footer, type PresentContext } from '../footer.ts';
import { caveatBlock } from '../inventory/coverage.ts';
import {
  type Block,
  type Button,
  bold,
  code,
  type FileAttachment,
  join,
  lit,
  type Message,
  md,
  type Text,
} from '../message.ts';

/** Bolt action id of the "Verify signatures" button on `/scope digest` results; its value is the digest. */
export const VERIFY_DIGEST_ACTION = 'scope_verify_digest';

export function verifyDigestButton(digest: string): Button {
  return { action: VERIFY_DIGEST_ACTION, label: 'Verify signatures', value: digest };
}

/** Failing digests shown inline; the rest go to the attached CSV. */
export const VERIFY_INLINE_LIMIT = 15;

const ICON: Record<OutcomeStatus, string> = {
  verified: ':white_check_mark:',
  invalid: ':x:',
  untrusted: ':rotating_light:',
  unsigned: ':warning:',
  'unknown-registry': ':no_entry:',
  error: ':grey_question:',
};

/**
 * Extension point for actions on a failing digest (the coming Quarantine button): given one failing result,
 * the buttons to show under it. Button values must be ids the click handler re-validates (the digest is one).
 */
export type VerifyActions = (failing: VerifiedDigest) => readonly Button[];

const short = (d: string) => (/^sha256:[0-9a-f]{64}$/.test(d) ? shortDigest(d as Digest) : d);

function where(r: VerifiedDigest): Text {
  if (r.runsAt.length === 0) return lit('not running in any synced cluster');
  const shown = r.runsAt.slice(0, 3).map((a) => `${a.cluster}/${a.namespace}/${a.workload}`);
  return md`runs in ${shown.join(', ')}${r.runsAt.length > 3 ? ` and ${r.runsAt.length - 3} more` : ''}`;
}

/** Why a digest failed, precise about which signature path said what. */
export function failureDetail(r: DigestVerification): Text {
  const o = r.outcome;
  switch (o.status) {
    case 'invalid':
      return md`${o.reason}`;
    case 'untrusted':
      return md`${o.reason}${o.signers.length > 1 ? ` (${o.signers.length} signatures, none by a trusted signer)` : ''}`;
    case 'unsigned':
      return md`no signature found; looked at ${r.attempts.map((a) => `${PATH_LABEL[a.path]} ${a.onIndex ? 'of the index ' : ''}(${a.result})`).join(', ')}`;
    case 'error':
      return md`${o.reason}`;
    case 'unknown-registry':
      return md`${o.reason}`;
    case 'verified':
      return lit('');
  }
}

function verifiedDetail(r: DigestVerification): Text {
  if (r.outcome.status !== 'verified') return lit('');
  const v = r.outcome.via;
  const evidence = [v.tlog ? 'tlog' : '', v.signedTimestamp ? 'signed timestamp' : '']
    .filter(Boolean)
    .join(' + ');
  return md`by ${describeSigner(r.outcome.signer)} · ${v.form} in ${PATH_LABEL[v.path]}${v.onIndex ? ` on the multi-arch index ${short(v.onIndex)} (not on this platform digest itself)` : ''}${evidence ? ` · ${evidence}` : ''}`;
}

function csv(results: readonly VerifiedDigest[]): string {
  const esc = (v: string | number) => {
    const s = String(v);
    const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
    return /[",\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  const text = (t: Text) => t.map((s) => ('text' in s ? s.text : '')).join('');
  const rows = results.map((r) =>
    [
      r.digest,
      r.repository,
      r.outcome.status,
      r.outcome.status === 'verified' ? text(verifiedDetail(r)) : text(failureDetail(r)),
      r.runsAt.map((a) => `${a.cluster}/${a.namespace}/${a.workload}`).join(' '),
      r.policy.name,
      r.checkedAt,
    ]
      .map(esc)
      .join(','),
  );
  return ['digest,repository,outcome,detail,runs_at,policy_rule,checked_at', ...rows].join('\n');
}

export function presentVerify(report: VerifyReport, ctx: PresentContext, actions?: VerifyActions): Message {
  const total = report.results.length;
  const failing = report.results.filter((r) => r.outcome.status !== 'verified');
  const blocks: Block[] = [];
  if (report.notRunning) {
    blocks.push({
      kind: 'section',
      text: md`:mag: ${code(report.notRunning)} is not running in any synced cluster; give ${code('image@sha256:…')} to verify it where it is stored.`,
    });
  }
  const unanswered = report.unanswered ?? [];
  const everyone = unanswered.length > 0 && unanswered.length >= (report.clustersInScope ?? 0);
  // What runs in a cluster that did not answer is not known: never "all signed" or "nothing to verify" then.
  const headline =
    total === 0
      ? unanswered.length === 0
        ? md`:shield: Nothing to verify in ${code(report.scope)}: no running container with a known digest.`
        : everyone
          ? md`:grey_question: *Unknown:* no cluster in ${code(report.scope)} has answered, so scope cannot tell what runs there or whether it is signed.`
          : md`:warning: *Partial:* no running digest found in ${code(report.scope)} in the clusters that answered; ${unanswered.length} did not answer.`
      : failing.length === 0
        ? unanswered.length === 0
          ? md`:white_check_mark: All ${bold(String(total))} running digest${total === 1 ? '' : 's'} in ${code(report.scope)} are signed by trusted signers.`
          : md`:warning: *Partial:* the ${bold(String(total))} running digest${total === 1 ? '' : 's'} found in ${code(report.scope)} are signed by trusted signers, but ${unanswered.length} cluster(s) did not answer: what runs there is not verified.`
        : md`:shield: ${bold(String(failing.length))} of ${total} running digest${total === 1 ? '' : 's'} in ${code(report.scope)} are *not* verified.`;
  blocks.push({ kind: 'section', text: headline });
  blocks.push(...caveatBlock(unanswered, ctx.now));
  if (total > 0) {
    blocks.push({
      kind: 'fields',
      fields: OUTCOME_ORDER.filter((s) => report.counts[s] > 0).map((s) => ({
        label: OUTCOME_LABEL[s],
        value: md`${report.counts[s]}`,
      })),
    });
  }
  for (const r of failing.slice(0, VERIFY_INLINE_LIMIT)) {
    blocks.push({
      kind: 'section',
      text: md`${lit(ICON[r.outcome.status])} ${bold(OUTCOME_LABEL[r.outcome.status])} ${code(r.digest)} · ${r.repository} — ${where(r)}\n${failureDetail(r)}`,
    });
    const buttons = actions?.(r) ?? [];
    if (buttons.length) blocks.push({ kind: 'actions', buttons });
  }
  if (failing.length > VERIFY_INLINE_LIMIT) {
    blocks.push({
      kind: 'context',
      text: md`…and ${failing.length - VERIFY_INLINE_LIMIT} more failing digests in the attached CSV.`,
    });
  }
  const verified = report.results.filter((r) => r.outcome.status === 'verified');
  if (verified.length && verified.length <= 5) {
    blocks.push({
      kind: 'list',
      items: verified.map(
        (r) => md`:white_check_mark: ${code(short(r.digest))} ${r.repository} — ${verifiedDetail(r)}`,
      ),
    });
  }
  const notes: Text[] = [
    md`policy ${report.policyVersion} · trust ${report.trust === 'custom' ? 'custom trusted root' : 'Sigstore public-good root'}`,
  ];
  if (report.cached) notes.push(md`${report.cached} from cache`);
  if (report.withoutDigest)
    notes.push(md`${report.withoutDigest} containers without a repo digest not checked`);
  blocks.push({ kind: 'context', text: join([footer(ctx), ...notes], ' · ') });
  const attachments: FileAttachment[] =
    total > VERIFY_INLINE_LIMIT
      ? [
          {
            filename: 'scope-verify.csv',
            title: `Signature verification of ${report.scope}`,
            content: csv(report.results),
          },
        ]
      : [];
  return {
    summary:
      total === 0
        ? `Nothing to verify in ${report.scope}`
        : `${report.scope}: ${OUTCOME_ORDER.filter((s) => report.counts[s] > 0)
            .map((s) => `${report.counts[s]} ${OUTCOME_LABEL[s]}`)
            .join(', ')}`,
    blocks,
    ...(attachments.length ? { attachments } : {}),
  };
}
