import { rotateOffer } from '../../domain/rotate/offer.ts';
import { ACTION_IDS } from '../../render/actions/present-request.ts';
import type { Message } from '../../render/message.ts';
import { verifyDigestButton } from '../../render/provenance/present-verify.ts';
import type { ActionStore } from '../../store/actions/action-store.ts';
import type { CommandResult } from '../run-command.ts';

const MAX_BUTTONS = 5;
/** An advisory alert's actions: up to 2 Verify, 3 Freeze (per environment) and the Quarantines that still fit. */
const MAX_ALERT_BUTTONS = 8;

/** Offer labels are shown in the reason modal; the store keeps at most 300 characters. */
const cap = (s: string): string => (s.length > 300 ? `${s.slice(0, 299)}…` : s);

/**
 * Adds action buttons to a result: **Freeze deploys** per environment on `/scope digest`, **Quarantine** per
 * failing digest on `/scope verify`, **Rotate** on a finished `/scope audit`. The
 * targets are stored server-side as an offer; the button carries only the offer id. A presenter for another
 * capability adds its buttons here the same way (save an offer, add a button with ACTION_IDS.offer).
 */
type OfferContext = { store: ActionStore; channelId: string; userId: string; now: Date };
type OfferButton = { action: string; label: string; value: string; style?: 'primary' | 'danger' };

export async function withActionButtons(
  result: CommandResult,
  message: Message,
  ctx: OfferContext,
): Promise<Message> {
  const buttons =
    result.kind === 'digest'
      ? await freezeButtons(result, ctx)
      : result.kind === 'verify'
        ? await quarantineButtons(result, ctx)
        : result.kind === 'audit'
          ? await rotateButtons(result, ctx)
          : [];
  if (buttons.length === 0) return message;
  return { ...message, blocks: [...message.blocks, { kind: 'actions', buttons }] };
}

/** Outcomes that make a digest a Quarantine candidate: proven bad or unknown origin, never a registry error. */
const QUARANTINE_OUTCOMES = new Set(['unsigned', 'invalid', 'untrusted', 'unknown-registry']);

async function quarantineButtons(
  result: Extract<CommandResult, { kind: 'verify' }>,
  ctx: OfferContext,
): Promise<OfferButton[]> {
  const buttons: OfferButton[] = [];
  const failing = result.report.results.filter(
    (r) => QUARANTINE_OUTCOMES.has(r.outcome.status) && /^sha256:[0-9a-f]{64}$/.test(r.digest),
  );
  for (const r of failing.slice(0, MAX_BUTTONS)) {
    const what = `${r.digest.slice(0, 19)}… (${r.outcome.status}, ${r.repository})`;
    const offer = await ctx.store.saveOffer({
      kind: 'quarantine',
      input: { digest: r.digest, references: [] },
      label: cap(
        `Quarantine ${what}: every cluster rejects new pods that use it or a tag that resolves to it. A second person must approve before anything changes.`,
      ),
      channelId: ctx.channelId,
      createdBy: ctx.userId,
      createdAt: ctx.now.toISOString(),
    });
    buttons.push({
      action: ACTION_IDS.offer,
      label: cap(`Quarantine ${r.digest.slice(7, 19)} (${r.outcome.status})`),
      value: offer.id,
      style: 'danger',
    });
    // Where it runs now, the same request can also freeze deploys of those workloads (one approval).
    if (r.runsAt.length === 0) continue;
    const both = await ctx.store.saveOffer({
      kind: 'quarantine',
      input: { digest: r.digest, references: [], freeze: true },
      label: cap(
        `Quarantine ${what} and freeze deploys of the workloads that run it now. The plan lists every object; a second person must approve before anything changes.`,
      ),
      channelId: ctx.channelId,
      createdBy: ctx.userId,
      createdAt: ctx.now.toISOString(),
    });
    buttons.push({
      action: ACTION_IDS.offer,
      label: cap(`Quarantine + freeze ${r.digest.slice(7, 19)}`),
      value: both.id,
      style: 'danger',
    });
  }
  return buttons;
}

async function rotateButtons(
  result: Extract<CommandResult, { kind: 'audit' }>,
  ctx: OfferContext,
): Promise<OfferButton[]> {
  const report = result.report;
  if (report.state !== 'done') return [];
  const input = rotateOffer(report.principal, report.analysis);
  if (input === undefined) return [];
  const extra = input.createdKeys.length
    ? ` and deactivate ${input.createdKeys.length} key(s) it created for others`
    : '';
  const offer = await ctx.store.saveOffer({
    kind: 'rotate',
    input,
    label: cap(
      `Rotate the credentials of ${report.principal}${extra}. The plan lists every step; a second person must approve before anything changes.`,
    ),
    channelId: ctx.channelId,
    createdBy: ctx.userId,
    createdAt: ctx.now.toISOString(),
  });
  return [
    { action: ACTION_IDS.offer, label: `Rotate ${report.principal}`, value: offer.id, style: 'danger' },
  ];
}

async function freezeButtons(
  result: Extract<CommandResult, { kind: 'digest' }>,
  ctx: OfferContext,
): Promise<OfferButton[]> {
  const buttons: OfferButton[] = [];
  for (const env of result.report.environments.slice(0, MAX_BUTTONS)) {
    const uses = env.uses.filter((u) => u.running);
    if (uses.length === 0) continue;
    const selectors = [
      ...new Map(
        uses.map((u) => [
          `${u.cluster}/${u.namespace}/${u.workload.kind}/${u.workload.name}`,
          { cluster: u.cluster, namespace: u.namespace, kind: u.workload.kind, name: u.workload.name },
        ]),
      ).values(),
    ];
    const offer = await ctx.store.saveOffer({
      kind: 'freeze',
      input: { selectors },
      label: cap(
        `Freeze deploys of the ${selectors.length} workload(s) running ${result.report.digest.slice(0, 19)}… in ${env.environment}. A second person must approve before anything changes.`,
      ),
      channelId: ctx.channelId,
      createdBy: ctx.userId,
      createdAt: ctx.now.toISOString(),
    });
    buttons.push({
      action: ACTION_IDS.offer,
      label: cap(`Freeze deploys in ${env.environment} (${selectors.length})`),
      value: offer.id,
      style: 'danger' as const,
    });
  }
  return buttons;
}

/**
 * Buttons under an advisory alert: **Freeze deploys** per environment for the workloads that run a match now,
 * and **Quarantine** for each matched digest that runs now. Offers are stored server-side; buttons carry ids.
 */
export async function advisoryButtons(
  advisoryId: string,
  findings: readonly {
    environment: string;
    cluster: string;
    namespace: string;
    workload: string;
    digest?: string;
    state: 'current' | 'past';
  }[],
  ctx: OfferContext,
  opts: { verify?: boolean } = {},
): Promise<OfferButton[]> {
  const current = findings.filter((f) => f.state === 'current');
  const buttons: OfferButton[] = [];
  const running = [
    ...new Set(
      current.flatMap((f) => (f.digest && /^sha256:[0-9a-f]{64}$/.test(f.digest) ? [f.digest] : [])),
    ),
  ];
  // Verify first (is what runs signed by who we expect?): the same path as `/scope verify <digest>`; the button
  // carries the digest only, re-validated by the click handler. Only where verification is configured.
  if (opts.verify) {
    for (const digest of running.slice(0, 2)) {
      const b = verifyDigestButton(digest);
      buttons.push({ ...b, label: running.length > 1 ? `Verify ${digest.slice(7, 19)}` : b.label });
    }
  }
  const byEnv = new Map<
    string,
    Map<string, { cluster: string; namespace: string; name: string; kind?: string }>
  >();
  for (const f of current) {
    const env = byEnv.get(f.environment) ?? new Map();
    // Advisory exposures name the workload as `Kind/name`.
    const slash = f.workload.indexOf('/');
    const kind = slash > 0 ? f.workload.slice(0, slash) : undefined;
    const name = slash > 0 ? f.workload.slice(slash + 1) : f.workload;
    env.set(`${f.cluster}/${f.namespace}/${f.workload}`, {
      cluster: f.cluster,
      namespace: f.namespace,
      name,
      ...(kind ? { kind } : {}),
    });
    byEnv.set(f.environment, env);
  }
  for (const [environment, workloads] of [...byEnv.entries()].slice(0, 3)) {
    const selectors = [...workloads.values()];
    const offer = await ctx.store.saveOffer({
      kind: 'freeze',
      input: { selectors },
      label: cap(
        `Freeze deploys of the ${selectors.length} workload(s) in ${environment} that ${advisoryId} matches. A second person must approve before anything changes.`,
      ),
      channelId: ctx.channelId,
      createdBy: ctx.userId,
      createdAt: ctx.now.toISOString(),
    });
    buttons.push({
      action: ACTION_IDS.offer,
      label: cap(`Freeze deploys in ${environment} (${selectors.length})`),
      value: offer.id,
      style: 'danger',
    });
  }
  for (const digest of running.slice(0, Math.max(1, MAX_ALERT_BUTTONS - buttons.length))) {
    const offer = await ctx.store.saveOffer({
      kind: 'quarantine',
      input: { digest, references: [] },
      label: cap(
        `Quarantine ${digest.slice(0, 19)}… (matched by ${advisoryId}): every cluster rejects new pods that use it or a tag that resolves to it. A second person must approve before anything changes.`,
      ),
      channelId: ctx.channelId,
      createdBy: ctx.userId,
      createdAt: ctx.now.toISOString(),
    });
    buttons.push({
      action: ACTION_IDS.offer,
      label: cap(`Quarantine ${digest.slice(7, 19)}`),
      value: offer.id,
      style: 'danger',
    });
  }
  return buttons;
}
