import type { Severity } from './rules.ts';

export type Evidence = {
  /** Up to 20 event ids, oldest first; `count` says how many there were in all. */
  eventIds: string[];
  count: number;
  first: number;
  last: number;
  /** Rule-specific facts (the new region, the address, the call…). */
  details: Record<string, string | number>;
};

export type Finding = {
  rule:
    | 'new-region'
    | 'new-network'
    | 'new-user-agent'
    | 'new-call'
    | 'unusual-hours'
    | 'volume-spike'
    | 'denied-burst'
    | 'high-risk-call';
  severity: Severity;
  title: string;
  /** Why it was flagged, in terms of the baseline. */
  why: string;
  evidence: Evidence;
};

export type Credentials = {
  /** Access keys the principal signed with in the window (long-term AKIA or session ASIA). */
  used: { accessKeyId: string; events: number; first: number; last: number; sourceIps: string[] }[];
  /** Keys it created, possibly for other users: candidates for deactivation. */
  created: { user: string; accessKeyId: string; eventId: string; time: number }[];
  /** Roles it assumed (role chaining) and the temporary keys issued. */
  rolesAssumed: { roleArn: string; accessKeyId?: string; eventId: string; time: number }[];
  /** Sessions of an audited role that started in the window (who obtained the role's credentials). */
  sessions: { sessionName: string; accessKeyId?: string; eventId: string; time: number; sourceIp?: string }[];
};

export type Analysis = {
  findings: Finding[];
  credentials: Credentials;
  window: { events: number; regions: Record<string, number>; calls: number; denied: number };
  baseline: { events: number };
  notes: string[];
};

export type AnalysisOptions = {
  since: number;
  until: number;
  baselineStart: number;
  /** Below this many baseline events, comparisons with the baseline are not made (default 10). */
  minBaseline?: number;
};
