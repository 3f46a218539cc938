import type { App } from '@slack/bolt';
import { z } from 'zod';
import { isDigest } from '../domain/inventory/image-ref.ts';
import { VERIFY_DIGEST_ACTION } from '../render/provenance/present-verify.ts';
import { toSlack } from '../render/slack-blocks.ts';
import { handleScopeCommand, type ScopeCommandDeps, type SlashCommandInput } from './scope-command.ts';

const clickSchema = z.object({
  user: z.object({ id: z.string().regex(/^[UW][A-Z0-9]+$/), username: z.string().optional() }),
  channel: z.object({ id: z.string().regex(/^[CGD][A-Z0-9]+$/) }),
  team: z.object({ id: z.string() }).nullish(),
  response_url: z.string().url().optional(),
  trigger_id: z.string().optional(),
});

/**
 * A "Verify signatures" click as the equivalent `/scope verify <digest>` command. The button value is only an
 * id (the digest), re-validated here; who clicked and where are taken from Slack's signed payload.
 */
export function parseVerifyClick(body: unknown, value: unknown): SlashCommandInput | undefined {
  const b = clickSchema.safeParse(body);
  if (!b.success || typeof value !== 'string' || !isDigest(value)) return undefined;
  return {
    text: `verify ${value}`,
    userId: b.data.user.id,
    channelId: b.data.channel.id,
    ...(b.data.user.username ? { userName: b.data.user.username } : {}),
    ...(b.data.team?.id ? { teamId: b.data.team.id } : {}),
    ...(b.data.response_url ? { responseUrl: b.data.response_url } : {}),
    ...(b.data.trigger_id ? { triggerId: b.data.trigger_id } : {}),
  };
}

/** Registers the "Verify signatures" button of `/scope digest` results: ack first, then the command path. */
export function registerVerifyButton(app: App, deps: ScopeCommandDeps): void {
  app.action(VERIFY_DIGEST_ACTION, async ({ ack, body, action, respond }) => {
    await ack();
    const input = parseVerifyClick(body, (action as { value?: unknown }).value);
    if (!input) {
      deps.log.warn({ action: VERIFY_DIGEST_ACTION }, 'malformed verify button payload');
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: 'scope could not read that button click; nothing was started.',
      });
      return;
    }
    const reply = await handleScopeCommand(deps, input).catch((err: unknown) => {
      deps.log.error({ err }, 'unexpected error handling the verify button');
      return { summary: 'scope hit an internal error; nothing was started.', blocks: [] };
    });
    await respond({ response_type: 'ephemeral', replace_original: false, ...toSlack(reply) });
  });
}
