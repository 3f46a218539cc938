import type { AuditEvent } from './event.ts';
import type { Evidence } from './findings.ts';

const MAX_IDS = 20;

/** Accumulates the evidence of one finding: up to 20 event ids, the count, first and last time, writes. */
export class Group {
  ids: string[] = [];
  count = 0;
  first = Number.POSITIVE_INFINITY;
  last = 0;
  writes = 0;
  /** Distinct sample values (addresses, regions, user agents), at most 50, in order of appearance. */
  values = new Set<string>();
  add(e: AuditEvent): void {
    if (this.ids.length < MAX_IDS) this.ids.push(e.id);
    this.count += 1;
    if (e.time < this.first) this.first = e.time;
    if (e.time > this.last) this.last = e.time;
    if (e.readOnly === false) this.writes += 1;
  }
  evidence(details: Record<string, string | number> = {}): Evidence {
    return { eventIds: this.ids, count: this.count, first: this.first, last: this.last, details };
  }
}

export function groupBy(
  events: readonly AuditEvent[],
  key: (e: AuditEvent) => string | undefined,
  value?: (e: AuditEvent) => string | undefined,
): Map<string, Group> {
  const m = new Map<string, Group>();
  for (const e of events) {
    const k = key(e);
    if (k === undefined) continue;
    let g = m.get(k);
    if (!g) {
      g = new Group();
      m.set(k, g);
    }
    g.add(e);
    if (value && g.values.size < 50) {
      const v = value(e);
      if (v !== undefined) g.values.add(v);
    }
  }
  return m;
}

export function unique(xs: string[]): string[] {
  return [...new Set(xs)].sort();
}
