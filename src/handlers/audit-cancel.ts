import type { App } from '@slack/bolt';
import { z } from 'zod';
import { AUDIT_CANCEL_ACTION } from '../render/audit/present-audit.ts';
import type { CancelFlags } from '../store/jobs/cancel-flags.ts';
import { authorizeChannel, type ScopeCommandDeps } from './scope-command.ts';

const payload = z.object({
  user: z.object({ id: z.string().regex(/^[UW][A-Z0-9]{2,}$/) }),
  channel: z.object({ id: z.string().regex(/^[CGD][A-Z0-9]{2,}$/) }),
});
/** Job ids of command jobs: `cmd-` and the 16-hex correlation id (see commandJobId). */
const JOB_ID = /^cmd-[0-9a-f]{16}$/;

/**
 * The Cancel button on audit progress messages. Acks first (the 3 s budget never waits on Redis), then validates
 * the payload and the job id, checks the channel allow-list, and raises the job's cancel flag; the job sees it
 * between pages and posts "cancelled by …".
 */
export function registerAuditCancel(app: App, deps: ScopeCommandDeps & { cancelFlags?: CancelFlags }): void {
  app.action(AUDIT_CANCEL_ACTION, async ({ ack, body, action, respond }) => {
    await ack();
    const p = payload.safeParse(body);
    const value = (action as { value?: unknown }).value;
    const say = (text: string) =>
      respond({ response_type: 'ephemeral', replace_original: false, text }).catch((err: unknown) =>
        deps.log.warn({ err }, 'could not answer the cancel button'),
      );
    if (!p.success || typeof value !== 'string' || !JOB_ID.test(value)) {
      deps.log.warn({ valid: p.success }, 'malformed audit cancel payload');
      await say(':warning: scope could not read this Cancel request; nothing was changed.');
      return;
    }
    const { user, channel } = p.data;
    try {
      authorizeChannel(deps.config.access.allowedChannels, channel.id);
    } catch {
      await say(':no_entry: scope is not enabled in this channel.');
      return;
    }
    try {
      const job = await deps.queue.getJob(value);
      if (job?.data?.command?.name !== 'audit' || job.data.reply?.channelId !== channel.id) {
        await say(':warning: That audit is not running here (it may have finished).');
        return;
      }
      if (!deps.cancelFlags) throw new Error('no cancel flag store wired');
      await deps.cancelFlags.request(value, user.id);
      await deps.audit.append({
        kind: 'request',
        actor: user.id,
        channel: channel.id,
        command: `cancel ${value}`,
        correlationId: value.slice(4),
      });
      await say(':octagonal_sign: Cancelling the audit; it stops after the current page.');
    } catch (err) {
      deps.log.error({ err }, 'could not cancel the audit');
      await say(':x: scope could not record the cancel request; try again.');
    }
  });
}
