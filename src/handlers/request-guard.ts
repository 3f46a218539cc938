import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HTTPReceiver, HTTPReceiverOptions } from '@slack/bolt';
import type { RefusalReason, RefusalRecorder } from './refusals.ts';

/** Slack's replay window: requests signed more than 5 minutes before or after now are refused. */
export const MAX_CLOCK_SKEW_SECONDS = 300;
const BODY_LIMIT = 1024 * 1024;

/**
 * Checks a Slack request signature and its timestamp in both directions (Bolt refuses only stale ones; a
 * request dated in the future passes it). Returns the refusal reason, or undefined when the request is genuine.
 */
export function checkSlackSignature(
  signingSecret: string,
  headers: { signature?: string | string[]; timestamp?: string | string[] },
  rawBody: Buffer,
  nowSeconds = Math.floor(Date.now() / 1000),
): RefusalReason | undefined {
  const { signature, timestamp } = headers;
  if (typeof signature !== 'string' || typeof timestamp !== 'string' || !/^\d{1,12}$/.test(timestamp))
    return 'BAD_SIGNATURE';
  const expected = Buffer.from(
    `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`,
  );
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'BAD_SIGNATURE';
  const age = nowSeconds - Number(timestamp);
  if (age > MAX_CLOCK_SKEW_SECONDS) return 'STALE_TIMESTAMP';
  if (age < -MAX_CLOCK_SKEW_SECONDS) return 'FUTURE_TIMESTAMP';
  return undefined;
}

/**
 * Puts our own check in front of Bolt's HTTP receiver for its Slack endpoints: a refused request gets 401 and
 * an audit entry (rate-limited, without body or headers) instead of only a log line. Bolt verifies again after.
 */
export function guardSlackRequests(
  receiver: HTTPReceiver,
  opts: { signingSecret: string; endpoints: readonly string[]; refusals: RefusalRecorder },
): void {
  const inner = receiver.requestListener;
  receiver.requestListener = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (req.method !== 'POST' || !opts.endpoints.includes(path)) return inner(req, res);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT) {
        if (!tooLarge) res.writeHead(413).end();
        tooLarge = true;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) {
        opts.refusals.record('MALFORMED_PAYLOAD', { detail: `body over ${BODY_LIMIT} bytes` });
        return;
      }
      const raw = Buffer.concat(chunks);
      // Slack's unsigned connectivity check; Bolt answers it and strips anything else from the body.
      const sslCheck = /^ssl_check=1(&|$)/.test(raw.toString('latin1'));
      const reason = sslCheck
        ? undefined
        : checkSlackSignature(
            opts.signingSecret,
            {
              signature: req.headers['x-slack-signature'],
              timestamp: req.headers['x-slack-request-timestamp'],
            },
            raw,
          );
      if (reason) {
        opts.refusals.record(reason, { detail: path });
        res.writeHead(401).end();
        return;
      }
      // Bolt reuses an already buffered body (BufferedIncomingMessage.rawBody) instead of reading the stream.
      (req as IncomingMessage & { rawBody?: Buffer }).rawBody = raw;
      inner(req, res);
    });
    req.on('error', () => res.destroy());
  };
}

/**
 * Bolt calls this when no listener acknowledged a request (an unknown action, event or view): recorded as a
 * refusal with the payload type and action ids only, then answered 404 as Bolt does.
 */
export function unhandledRequestAuditor(
  refusals: RefusalRecorder,
): NonNullable<HTTPReceiverOptions['unhandledRequestHandler']> {
  return ({ logger, request, response }) => {
    logger.error('an incoming request was not acknowledged by any listener');
    refusals.record('UNHANDLED_REQUEST', { detail: describePayload(request) });
    if (!response.headersSent) response.writeHead(404).end();
  };
}

function describePayload(request: IncomingMessage): string {
  const raw = (request as IncomingMessage & { rawBody?: Buffer }).rawBody?.toString('utf8') ?? '';
  try {
    const form = new URLSearchParams(raw);
    const body = JSON.parse(form.get('payload') ?? raw) as {
      type?: unknown;
      actions?: Array<{ action_id?: unknown }>;
    };
    const safe = (v: unknown) => (typeof v === 'string' ? v.replace(/[^\w.:-]/g, '').slice(0, 60) : '?');
    const actions = Array.isArray(body.actions)
      ? body.actions.slice(0, 5).map((a) => safe(a?.action_id))
      : [];
    return `${safe(body.type)}${actions.length ? ` action ${actions.join(',')}` : ''}`;
  } catch {
    const command = new URLSearchParams(raw).get('command');
    return command ? `command ${command.replace(/[^\w/-]/g, '').slice(0, 40)}` : 'unparsed payload';
  }
}
