import { type Analysis, analyse } from '../../domain/audit/analyse.ts';
import type { AuditEvent } from '../../domain/audit/event.ts';
import { describePrincipal, parsePrincipal } from '../../domain/audit/principal.ts';
import { type AuditRequest, validateAuditRequest } from '../../domain/audit/request.ts';
import type { AuditEventSource, AuditProgress, RegionOutcome } from '../../domain/audit/source.ts';
import { auditWindow } from '../../domain/audit/window.ts';

/** The result of `/scope audit`: what was read, from where, and what is unusual. */
export type AuditReport =
  | {
      state: 'done';
      principal: string;
      request: AuditRequest;
      window: { since: string; until: string; baselineStart: string; baselineClamped: boolean };
      analysis: Analysis;
      fetch: {
        pages: number;
        throttles: number;
        unreadable: number;
        regions: RegionOutcome[];
        sessions: string[];
        notes: string[];
      };
      /** Every event of the window (actor, session starts, acted on), oldest first: the attached file. */
      events: AuditEvent[];
      generatedAt: string;
    }
  | {
      state: 'cancelled';
      principal: string;
      request: AuditRequest;
      by: string;
      progress: AuditProgress;
      generatedAt: string;
    };

export type AuditJobDeps = {
  source: AuditEventSource;
  baselineDays: number;
  now?: () => Date;
  signal: AbortSignal;
  onProgress?: (p: AuditProgress) => void;
  /** Polled between pages (at most once a second): who cancelled, if anyone. */
  cancelledBy?: () => Promise<string | undefined>;
};

export class AuditCancelled extends Error {
  readonly by: string;
  constructor(by: string) {
    super(`cancelled by ${by}`);
    this.name = 'AuditCancelled';
    this.by = by;
  }
}

/** Reads the principal's window and baseline, analyses them and builds the report; cancellable. */
export async function runAudit(raw: AuditRequest, deps: AuditJobDeps): Promise<AuditReport> {
  const now = (deps.now ?? (() => new Date()))();
  const request = validateAuditRequest(raw, now.getTime());
  const principal = parsePrincipal(request.principal);
  const window = auditWindow(
    {
      ...(request.since ? { since: request.since } : {}),
      ...(request.until ? { until: request.until } : {}),
      baselineDays: deps.baselineDays,
    },
    now.getTime(),
  );
  const ctl = new AbortController();
  const onOuterAbort = () => ctl.abort(deps.signal.reason);
  deps.signal.addEventListener('abort', onOuterAbort, { once: true });
  let last: AuditProgress = { pages: 0, events: 0, throttles: 0 };
  let lastCheck = 0;
  let checking = false;
  const check = () => {
    if (!deps.cancelledBy || checking || Date.now() - lastCheck < 1000) return;
    checking = true;
    lastCheck = Date.now();
    deps
      .cancelledBy()
      .then((by) => {
        if (by) ctl.abort(new AuditCancelled(by));
      })
      .catch(() => undefined)
      .finally(() => {
        checking = false;
      });
  };
  const poll = deps.cancelledBy ? setInterval(check, 1000) : undefined;
  try {
    const fetched = await deps.source.fetch(principal, window, {
      ...(request.regions ? { regions: request.regions } : {}),
      signal: ctl.signal,
      onProgress: (p) => {
        last = p;
        deps.onProgress?.(p);
        check();
      },
    });
    const analysis = analyse(fetched.events, window);
    const notes = [...fetched.notes, ...analysis.notes];
    if (window.baselineClamped) notes.push('The baseline was cut short by the 90 days CloudTrail keeps.');
    return {
      state: 'done',
      principal: describePrincipal(principal),
      request,
      window: {
        since: iso(window.since),
        until: iso(window.until),
        baselineStart: iso(window.baselineStart),
        baselineClamped: window.baselineClamped,
      },
      analysis,
      fetch: {
        pages: fetched.pages,
        throttles: fetched.throttles,
        unreadable: fetched.unreadable,
        regions: fetched.regions,
        sessions: fetched.sessions,
        notes,
      },
      events: fetched.events.filter((e) => e.time >= window.since && e.time <= window.until),
      generatedAt: new Date().toISOString(),
    };
  } catch (err) {
    const reason = ctl.signal.reason;
    if (ctl.signal.aborted && reason instanceof AuditCancelled) {
      return {
        state: 'cancelled',
        principal: describePrincipal(principal),
        request,
        by: reason.by,
        progress: last,
        generatedAt: new Date().toISOString(),
      };
    }
    throw err;
  } finally {
    if (poll) clearInterval(poll);
    deps.signal.removeEventListener('abort', onOuterAbort);
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
