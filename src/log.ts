import { pino } from 'pino';

/** Structured JSON logger shared by every process; secrets are redacted by key (any depth) and by shape. */
export type Logger = pino.Logger;

/**
 * Keys whose values are secrets wherever they appear: *token, anything with secret/password/passwd in it,
 * authorization and cookie headers, private and API keys, Slack's request signature.
 */
const SECRET_KEY =
  /(token$|secret|passw(or)?d|^authorization$|^proxy-authorization$|^(set-)?cookie$|private_?key|api_?key|^x-slack-signature$)/i;

/** Keys that merely contain "token" or "secret" but hold no secret (counts, flags, names of things). */
const NOT_SECRET_KEY = /^(tokenVerificationEnabled|secretName|tokens?Count)$/i;

const REDACTED = '[redacted]';

/** Slack tokens (bot, user, app, refresh/export, client, legacy), AWS access key ids. */
const TOKEN_SHAPES =
  /\b(xox[a-z](?:\.xox[a-z])?-[A-Za-z0-9.-]+|xapp-[A-Za-z0-9-]+|(?:ASIA|AKIA)[A-Z0-9]{16})\b/g;
/** user:password@ in any URL (redis://, rediss://, https://…), also with an empty user. */
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/]*):([^\s@/]+)@/gi;
/** A 40-character AWS secret access key (base64 alphabet, not plain hex such as a SHA-1). */
const AWS_SECRET =
  /(?<![A-Za-z0-9/+])(?=[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+]))(?![0-9a-f]{40})[A-Za-z0-9/+]{40}/g;
const AWS_CONTEXT = /(AKIA|ASIA)[A-Z0-9]{16}|secret|aws_?secret/i;

/** Replaces anything shaped like a credential inside free text. */
export function scrubSecrets(text: string): string {
  const awsContext = AWS_CONTEXT.test(text);
  let out = text.replace(TOKEN_SHAPES, (m) => `${m.slice(0, 4)}…${REDACTED}`);
  out = out.replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`);
  // A secret access key is only recognisable next to its key id or a "secret" label.
  if (awsContext) out = out.replace(AWS_SECRET, REDACTED);
  return out;
}

function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !NOT_SECRET_KEY.test(key);
}

/** An Error as plain data: type, message, stack, code and cause (recursively), all scrubbed. */
function serializeError(err: Error, seen: WeakSet<object>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: err.constructor?.name ?? err.name ?? 'Error',
    message: scrubSecrets(String(err.message ?? '')),
    stack: scrubSecrets(String(err.stack ?? '')),
  };
  for (const [k, v] of Object.entries(err)) {
    if (k === 'message' || k === 'stack') continue;
    out[k] = redactDeep(v, seen, depth + 1, k);
  }
  if (err.cause !== undefined) out.cause = redactDeep(err.cause, seen, depth + 1, 'cause');
  if (err instanceof AggregateError) out.errors = redactDeep(err.errors, seen, depth + 1, 'errors');
  return out;
}

/** Copies a value for logging: secret keys redacted at any depth, Errors serialised under any key, text scrubbed. */
export function redactDeep(value: unknown, seen = new WeakSet<object>(), depth = 0, key = ''): unknown {
  if (key && isSecretKey(key) && value !== undefined && value !== null && value !== '') return REDACTED;
  if (typeof value === 'string') return scrubSecrets(value);
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[circular]';
  if (depth > 12) return '[too deep]';
  seen.add(value);
  try {
    if (value instanceof Error) return serializeError(value, seen, depth);
    if (value instanceof URL) return scrubSecrets(value.href);
    if (value instanceof Date) return value;
    if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
    if (Array.isArray(value)) return value.map((v) => redactDeep(v, seen, depth + 1));
    if (value instanceof Map) return redactDeep(Object.fromEntries(value), seen, depth + 1);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, seen, depth + 1, k);
    return out;
  } finally {
    seen.delete(value);
  }
}

export function createLogger(
  level: string,
  name: string,
  destination: pino.DestinationStream = pino.destination(2),
): Logger {
  const logger = pino(
    {
      name,
      level,
      base: { service: 'scope', process: name },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        log: (obj) => redactDeep(obj) as Record<string, unknown>,
        bindings: (bindings) => redactDeep(bindings) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a)) as Parameters<typeof method>,
          );
        },
        // The whole serialised line, as a last net for shapes that reached the output some other way.
        streamWrite: scrubSecrets,
      },
      serializers: {
        // Errors are already plain data here (redactDeep); a non-Error under `err` is logged as it is.
        err: (err: unknown) => err,
      },
    },
    destination,
  );
  // pino applies the bindings formatter to the root only; children's bindings go through redactDeep here
  // (children inherit this method through the prototype chain, so grandchildren do too).
  const child = logger.child as unknown as (this: unknown, b: pino.Bindings, o?: unknown) => Logger;
  logger.child = function (this: unknown, bindings: pino.Bindings, options?: unknown) {
    return child.call(this, redactDeep(bindings) as pino.Bindings, options);
  } as unknown as typeof logger.child;
  return logger;
}
