import type { App } from '@slack/bolt';
import type { CancelFlags } from '../store/jobs/cancel-flags.ts';
import { registerActionHandlers } from './actions/index.ts';
import { registerAuditCancel } from './audit-cancel.ts';
import { registerScopeCommand, type ScopeCommandDeps } from './scope-command.ts';
import { registerVerifyButton } from './verify-button.ts';

/** Everything handlers need; one bag so new listeners do not change the bot's wiring. */
export type HandlerDeps = ScopeCommandDeps & { cancelFlags?: CancelFlags };

export function registerHandlers(app: App, deps: HandlerDeps): void {
  registerScopeCommand(app, deps);
  registerAuditCancel(app, deps);
  if (deps.actions) registerActionHandlers(app, deps.actions, deps.log);
  registerVerifyButton(app, deps);
}
