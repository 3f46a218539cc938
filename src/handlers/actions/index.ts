import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { ActionInteractions, InteractionSlack } from '../../jobs/actions/interactions.ts';
import type { Logger } from '../../log.ts';
import { REASON_CALLBACK } from '../../render/actions/present-request.ts';
import { toSlack } from '../../render/slack-blocks.ts';

/** Slack Web API calls behind the interaction port. */
export function interactionSlack(client: WebClient): InteractionSlack {
  return {
    openModal: async (triggerId, view) => {
      await client.views.open({ trigger_id: triggerId, view: view as never });
    },
    ephemeral: async (channel, user, message) => {
      await client.chat.postEphemeral({ channel, user, ...toSlack(message) });
    },
  };
}

/** Buttons and the reason modal: ack first (well within Slack's 3 s), then the work. */
export function registerActionHandlers(app: App, interactions: ActionInteractions, log: Logger): void {
  app.action(/^scope_action_/, async ({ ack, body }) => {
    await ack();
    await interactions
      .onBlockAction(body)
      .catch((err: unknown) => log.error({ err }, 'action handler failed'));
  });
  app.view(REASON_CALLBACK, async ({ ack, body }) => {
    // Pure validation only (no Redis, no Slack) before the ack: a too-short reason is shown in the modal.
    const reason = (body as { view?: { state?: { values?: { reason?: { reason?: { value?: unknown } } } } } })
      .view?.state?.values?.reason?.reason?.value;
    if (typeof reason !== 'string' || reason.trim().length < 3) {
      await ack({
        response_action: 'errors',
        errors: { reason: 'Say in a few words why (at least 3 characters).' },
      });
      return;
    }
    await ack();
    await interactions
      .onViewSubmission(body)
      .catch((err: unknown) => log.error({ err }, 'view handler failed'));
  });
}
