import type { AuditEvent } from './event.ts';
import type { Principal } from './principal.ts';
import type { AuditWindow } from './window.ts';

export type AuditProgress = {
  pages: number;
  events: number;
  throttles: number;
  /** Estimated time left (ms), from how much of each query's time range has been read; undefined at first. */
  etaMs?: number;
};

/** What happened in one account+region: reported even when it failed, so a silent gap is impossible. */
export type RegionOutcome = {
  account: string;
  region: string;
  pages: number;
  events: number;
  throttles: number;
  unreadable: number;
  truncated: boolean;
  error?: string;
};

export type AuditFetch = {
  events: AuditEvent[];
  unreadable: number;
  pages: number;
  throttles: number;
  regions: RegionOutcome[];
  /** A role's session names that were followed. */
  sessions: string[];
  notes: string[];
};

/** The port the audit job reads events through (CloudTrail in production, the same adapter on a stand-in in tests). */
export interface AuditEventSource {
  fetch(
    principal: Principal,
    window: AuditWindow,
    opts: { regions?: readonly string[]; signal: AbortSignal; onProgress?: (p: AuditProgress) => void },
  ): Promise<AuditFetch>;
}
