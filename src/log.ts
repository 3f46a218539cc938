import { pino } from 'pino';

/** Structured JSON logger shared by every process; secrets are redacted by key and by token shape. */
export type Logger = pino.Logger;

const SECRET_KEYS = [
  'token',
  'botToken',
  'appToken',
  'signingSecret',
  'password',
  'authorization',
  'secretAccessKey',
  'sessionToken',
];

const TOKEN_SHAPES = /\b(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|ASIA[A-Z0-9]{16}|AKIA[A-Z0-9]{16})\b/g;

/** Replaces anything shaped like a Slack or AWS credential inside free text. */
export function scrubSecrets(text: string): string {
  return text.replace(TOKEN_SHAPES, (m) => `${m.slice(0, 4)}…[redacted]`);
}

export function createLogger(
  level: string,
  name: string,
  destination: pino.DestinationStream = pino.destination(2),
): Logger {
  return pino(
    {
      name,
      level,
      base: { service: 'scope', process: name },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `headers.${k}`]),
        censor: '[redacted]',
      },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? scrubSecrets(a) : a)) as Parameters<typeof method>,
          );
        },
        // The whole serialised line, so token shapes in error stacks and causes, a bare Error's message
        // (which pino copies into msg) and nested fields such as URLs are caught too.
        streamWrite: scrubSecrets,
      },
      serializers: {
        err: (err: unknown) =>
          err instanceof Error
            ? { ...pino.stdSerializers.err(err), message: scrubSecrets(err.message ?? '') }
            : err,
      },
    },
    destination,
  );
}
