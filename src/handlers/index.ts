import type { App } from '@slack/bolt';
import { registerActionHandlers } from './actions/index.ts';
import { registerScopeCommand, type ScopeCommandDeps } from './scope-command.ts';

/** Everything handlers need; one bag so new listeners do not change the bot's wiring. */
export type HandlerDeps = ScopeCommandDeps;

export function registerHandlers(app: App, deps: HandlerDeps): void {
  registerScopeCommand(app, deps);
  if (deps.actions) registerActionHandlers(app, deps.actions, deps.log);
}
