/** Every error scope raises carries a literal code, so handlers and logs can branch on it without string matching. */
export type ErrorCode =
  | 'BAD_INPUT'
  | 'UNKNOWN_COMMAND'
  | 'NOT_ALLOWED'
  | 'CONFIG_INVALID'
  | 'NOT_FOUND'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_FORBIDDEN'
  | 'UPSTREAM_UNAUTHORIZED'
  | 'TIMEOUT'
  | 'STARTUP_FAILED'
  | 'INTERNAL';

export class ScopeError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ScopeError';
    this.code = code;
  }
}

/**
 * The only kind of error whose message is shown to a Slack user. `hint` says how to do it right
 * (for example the correct usage line); everything else is logged with a correlation id instead.
 */
export class UserFacingError extends ScopeError {
  readonly hint: string | undefined;
  constructor(code: ErrorCode, message: string, hint?: string) {
    super(code, message);
    this.name = 'UserFacingError';
    this.hint = hint;
  }
}

export function isUserFacing(err: unknown): err is UserFacingError {
  return err instanceof UserFacingError;
}
