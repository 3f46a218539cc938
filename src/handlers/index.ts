import type { App } from '@slack/bolt';
import { registerScopeCommand, type ScopeCommandDeps } from './scope-command.ts';
import { registerVerifyButton } from './verify-button.ts';

/** Everything handlers need; one bag so new listeners do not change the bot's wiring. */
export type HandlerDeps = ScopeCommandDeps;

export function registerHandlers(app: App, deps: HandlerDeps): void {
  registerScopeCommand(app, deps);
  registerVerifyButton(app, deps);
}
