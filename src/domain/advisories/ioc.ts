import { formatImageRef, isDigest, parseImageRef } from '../inventory/image-ref.ts';
import {
  type Advisory,
  type Indicator,
  type ParseOutcome,
  type ParseProblem,
  parseSeverity,
  type Severity,
} from './model.ts';

/**
 * IOC lists (docs/CONFIGURATION.md, "IOC lists"): JSON `{"indicators": [...]}` (or a bare array) or CSV with
 * the header `id,type,value,title,severity,reference[,issuer]`. Rows sharing an id form one advisory.
 */
export const IOC_TYPES = [
  'image-digest',
  'image-repository',
  'image-tag',
  'artifact-hash',
  'signer-identity',
] as const;
export const IOC_CSV_COLUMNS = ['id', 'type', 'value', 'title', 'severity', 'reference', 'issuer'] as const;

const HASH_LENGTHS: Record<string, number> = { sha256: 64, sha512: 128 };
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

type Row = Partial<Record<(typeof IOC_CSV_COLUMNS)[number], string>>;

export function parseIocJson(doc: unknown, source: string): ParseOutcome {
  const rows = Array.isArray(doc)
    ? doc
    : doc && typeof doc === 'object'
      ? (doc as { indicators?: unknown }).indicators
      : undefined;
  if (!Array.isArray(rows)) {
    return {
      advisories: [],
      problems: [
        { source, record: '(file)', why: 'expected {"indicators": [...]} or an array of indicators' },
      ],
    };
  }
  return fromRows(
    rows.map((r, i) => ({ row: toRow(r), label: `#${i + 1}` })),
    source,
  );
}

function toRow(r: unknown): Row | undefined {
  if (!r || typeof r !== 'object' || Array.isArray(r)) return undefined;
  const out: Row = {};
  for (const k of IOC_CSV_COLUMNS) {
    const v = (r as Record<string, unknown>)[k];
    if (typeof v === 'string') out[k] = v;
    else if (v !== undefined && v !== null) out[k] = `\u0000${typeof v}`;
  }
  return out;
}

export function parseIocCsv(text: string, source: string): ParseOutcome {
  const lines = parseCsv(text);
  const header = lines.shift();
  const required = ['id', 'type', 'value'];
  if (!header || !required.every((c) => header.cells.map((x) => x.trim().toLowerCase()).includes(c))) {
    return {
      advisories: [],
      problems: [
        { source, record: 'line 1', why: `the header must name the columns ${IOC_CSV_COLUMNS.join(',')}` },
      ],
    };
  }
  const cols = header.cells.map((c) => c.trim().toLowerCase());
  const rows = lines
    .filter((l) => l.cells.some((c) => c.trim() !== ''))
    .map((l) => {
      if (l.error) return { row: undefined, label: `line ${l.line}`, why: l.error };
      const row: Row = {};
      cols.forEach((c, i) => {
        if ((IOC_CSV_COLUMNS as readonly string[]).includes(c)) row[c as keyof Row] = l.cells[i] ?? '';
      });
      return { row, label: `line ${l.line}` };
    });
  return fromRows(rows, source);
}

function fromRows(
  rows: Array<{ row: Row | undefined; label: string; why?: string }>,
  source: string,
): ParseOutcome {
  const problems: ParseProblem[] = [];
  const byId = new Map<string, Advisory>();
  for (const { row, label, why } of rows) {
    const record = row?.id && ID.test(row.id.trim()) ? `${row.id.trim()} (${label})` : label;
    if (!row) {
      problems.push({ source, record, why: why ?? 'not an object' });
      continue;
    }
    const res = parseIndicatorRow(row);
    if (typeof res === 'string') {
      problems.push({ source, record, why: res });
      continue;
    }
    const existing = byId.get(res.id);
    if (existing) {
      existing.indicators.push(res.indicator);
      if (res.title !== existing.title)
        existing.notes.push(`${label}: a different title for the same id was ignored`);
      continue;
    }
    byId.set(res.id, {
      id: res.id,
      source,
      kind: 'ioc',
      title: res.title,
      severity: res.severity,
      references: res.reference ? [res.reference] : [],
      aliases: [],
      packages: [],
      indicators: [res.indicator],
      notes: [],
    });
  }
  return { advisories: [...byId.values()], problems };
}

function parseIndicatorRow(
  row: Row,
): { id: string; title: string; severity: Severity; reference?: string; indicator: Indicator } | string {
  for (const [k, v] of Object.entries(row)) if (v?.startsWith('\u0000')) return `"${k}" must be a string`;
  const id = row.id?.trim() ?? '';
  if (!ID.test(id)) return 'missing or malformed "id" (letters, digits, ".", "_", ":", "-"; at most 128)';
  const title = row.title?.trim() ?? '';
  if (!title) return 'missing "title"';
  const severity = parseSeverity(row.severity ?? '');
  if (!severity) return `"severity" must be one of critical, high, medium, low, unknown`;
  const reference = row.reference?.trim() || undefined;
  if (reference !== undefined && !/^https:\/\/[^\s]+$/.test(reference))
    return '"reference" must be an https:// URL';
  const type = row.type?.trim().toLowerCase() ?? '';
  const value = row.value?.trim() ?? '';
  if (!value) return 'missing "value"';
  const indicator = parseIndicator(type, value, row.issuer?.trim());
  if (typeof indicator === 'string') return indicator;
  return { id, title: title.slice(0, 300), severity, ...(reference ? { reference } : {}), indicator };
}

/** Validates one indicator value for its type; returns the reason when it is malformed. */
export function parseIndicator(type: string, value: string, issuer?: string): Indicator | string {
  switch (type) {
    case 'image-digest': {
      const at = value.lastIndexOf('@');
      const d = (at >= 0 ? value.slice(at + 1) : value).toLowerCase();
      if (!isDigest(d))
        return 'image-digest must be sha256: followed by 64 hex digits (optionally repo@sha256:…)';
      return { kind: 'image-digest', digest: d };
    }
    case 'image-repository':
    case 'image-tag': {
      let ref: ReturnType<typeof parseImageRef>;
      try {
        ref = parseImageRef(value);
      } catch {
        return `${type} "${value.slice(0, 80)}" is not an image reference`;
      }
      if (ref.digest) return `${type} must not carry a digest; use image-digest`;
      const repository = formatImageRef({ registry: ref.registry, repository: ref.repository });
      if (type === 'image-repository') {
        if (ref.tag && /:[^/]+$/.test(value)) return 'image-repository must not carry a tag; use image-tag';
        return { kind: 'image-repository', repository };
      }
      if (!ref.tag || !/:[^/]+$/.test(value)) return 'image-tag needs a tag (repo:tag)';
      return { kind: 'image-tag', repository, tag: ref.tag };
    }
    case 'artifact-hash': {
      const m = /^([A-Za-z0-9]+):([0-9A-Fa-f]+)$/.exec(value);
      if (!m) return 'artifact-hash must be algorithm:hex (sha256:… or sha512:…)';
      const algorithm = (m[1] as string).toLowerCase();
      const len = HASH_LENGTHS[algorithm];
      if (len === undefined) return `artifact-hash algorithm "${m[1]}" is not supported (sha256, sha512)`;
      if ((m[2] as string).length !== len)
        return `a ${algorithm} hash has ${len} hex digits, not ${(m[2] as string).length}`;
      return {
        kind: 'artifact-hash',
        algorithm: algorithm as 'sha256' | 'sha512',
        hex: (m[2] as string).toLowerCase(),
      };
    }
    case 'signer-identity':
      if (value.length > 512 || /\s/.test(value))
        return 'signer-identity must be one identity (no spaces, ≤ 512)';
      if (issuer !== undefined && issuer !== '' && !/^https:\/\/\S+$/.test(issuer))
        return '"issuer" must be an https:// URL';
      return { kind: 'signer-identity', identity: value, ...(issuer ? { issuer } : {}) };
    default:
      return `"type" must be one of ${IOC_TYPES.join(', ')}`;
  }
}

/** RFC 4180 CSV: quoted fields with `""` escapes and embedded newlines; reports an unterminated quote. */
export function parseCsv(text: string): Array<{ line: number; cells: string[]; error?: string }> {
  const out: Array<{ line: number; cells: string[]; error?: string }> = [];
  let line = 1;
  let i = 0;
  const s = text.replace(/^\uFEFF/, '');
  while (i < s.length) {
    const start = line;
    const cells: string[] = [];
    let cell = '';
    let quoted = false;
    let done = false;
    while (i < s.length && !done) {
      const c = s[i] as string;
      if (quoted) {
        if (c === '"' && s[i + 1] === '"') {
          cell += '"';
          i += 2;
        } else if (c === '"') {
          quoted = false;
          i++;
        } else {
          if (c === '\n') line++;
          cell += c;
          i++;
        }
      } else if (c === '"' && cell === '') {
        quoted = true;
        i++;
      } else if (c === ',') {
        cells.push(cell);
        cell = '';
        i++;
      } else if (c === '\n' || c === '\r') {
        i += c === '\r' && s[i + 1] === '\n' ? 2 : 1;
        line++;
        done = true;
      } else {
        cell += c;
        i++;
      }
    }
    cells.push(cell);
    out.push(quoted ? { line: start, cells, error: 'unterminated quoted field' } : { line: start, cells });
  }
  return out;
}
