import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.ts';
import type { AuditLog } from '../store/audit/audit-log.ts';

/** Why a request was refused before it became a command; recorded in the audit trail under this code. */
export type RefusalReason =
  | 'BAD_SIGNATURE'
  | 'STALE_TIMESTAMP'
  | 'FUTURE_TIMESTAMP'
  | 'MALFORMED_PAYLOAD'
  | 'UNHANDLED_REQUEST'
  | 'RESPONSE_URL_REFUSED';

/**
 * Records refused requests in the audit trail, never their bodies or headers, at most `perMinute` entries a
 * minute (a flood of forged requests must not flood the trail); what is dropped is counted and recorded as
 * one summary entry when the minute is over.
 */
export class RefusalRecorder {
  readonly #audit: AuditLog;
  readonly #log: Logger;
  readonly #perMinute: number;
  #windowStart = Date.now();
  #inWindow = 0;
  #dropped = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(audit: AuditLog, log: Logger, perMinute = 30) {
    this.#audit = audit;
    this.#log = log;
    this.#perMinute = perMinute;
    this.#timer = setInterval(() => this.#roll(), 60_000);
    this.#timer.unref();
  }

  record(reason: RefusalReason, info: { actor?: string; channel?: string; detail?: string } = {}): void {
    this.#log.warn({ reason, ...info }, 'request refused');
    if (Date.now() - this.#windowStart >= 60_000) this.#roll();
    if (this.#inWindow >= this.#perMinute) {
      this.#dropped++;
      return;
    }
    this.#inWindow++;
    this.#append(reason, info);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#roll();
  }

  #roll(): void {
    if (this.#dropped > 0) {
      this.#append('SUPPRESSED', { detail: `${this.#dropped} more refused requests in the minute before` });
      this.#log.warn({ dropped: this.#dropped }, 'refused requests over the audit rate limit');
    }
    this.#windowStart = Date.now();
    this.#inWindow = 0;
    this.#dropped = 0;
  }

  #append(reason: string, info: { actor?: string; channel?: string; detail?: string }): void {
    void Promise.resolve()
      .then(() =>
        this.#audit.append({
          kind: 'refusal',
          actor: info.actor ?? 'unknown',
          ...(info.channel ? { channel: info.channel } : {}),
          command: 'request',
          correlationId: randomUUID().replace(/-/g, '').slice(0, 16),
          outcome: 'refused',
          detail: info.detail ? `${reason}: ${info.detail.slice(0, 200)}` : reason,
        }),
      )
      .catch((e: unknown) => this.#log.error({ err: e }, 'audit append failed'));
  }
}
