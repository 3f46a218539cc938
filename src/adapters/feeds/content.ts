import { Unzip, UnzipInflate } from 'fflate';
import { parseIocCsv, parseIocJson } from '../../domain/advisories/ioc.ts';
import type { ParseOutcome } from '../../domain/advisories/model.ts';
import { parseOsvDocument } from '../../domain/advisories/osv.ts';

/** Largest single entry of a zip that is parsed (an OSV record is a few KB; this bounds a zip bomb). */
const MAX_ENTRY_BYTES = 32 * 1024 * 1024;

/** Parses one feed file (JSON, CSV or zip of those) into advisories and problems; never throws on content. */
export function parseFeedContent(
  kind: 'osv' | 'ioc',
  name: string,
  bytes: Uint8Array,
  source: string,
): ParseOutcome {
  if (isZip(bytes)) return parseZip(kind, bytes, source);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  if (kind === 'ioc' && (name.toLowerCase().endsWith('.csv') || !/^\s*[[{]/.test(text))) {
    return parseIocCsv(text, source);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return {
      advisories: [],
      problems: [{ source, record: name, why: `not valid JSON: ${(err as Error).message.slice(0, 120)}` }],
    };
  }
  return kind === 'osv' ? parseOsvDocument(doc, source) : parseIocJson(doc, source);
}

export function isZip(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04
  );
}

/**
 * Reads a zip entry by entry with fflate's streaming Unzip: only one decompressed entry is held at a time,
 * so an OSV `all.zip` of hundreds of MB never sits decompressed in memory.
 */
function parseZip(kind: 'osv' | 'ioc', bytes: Uint8Array, source: string): ParseOutcome {
  const out: ParseOutcome = { advisories: [], problems: [] };
  const unzip = new Unzip();
  unzip.register(UnzipInflate);
  unzip.onfile = (file) => {
    const lower = file.name.toLowerCase();
    if (lower.endsWith('/') || !(lower.endsWith('.json') || (kind === 'ioc' && lower.endsWith('.csv'))))
      return;
    const chunks: Uint8Array[] = [];
    let size = 0;
    let tooBig = false;
    file.ondata = (err, data, final) => {
      if (err) {
        out.problems.push({ source, record: file.name, why: `zip entry unreadable: ${err.message}` });
        return;
      }
      if (!tooBig) {
        size += data.length;
        if (size > MAX_ENTRY_BYTES) {
          tooBig = true;
          chunks.length = 0;
          out.problems.push({
            source,
            record: file.name,
            why: `zip entry larger than ${MAX_ENTRY_BYTES} bytes`,
          });
        } else chunks.push(data);
      }
      if (final && !tooBig) {
        const buf = Buffer.concat(chunks);
        const r = parseFeedContent(kind, file.name, buf, source);
        out.advisories.push(...r.advisories);
        for (const p of r.problems)
          out.problems.push(p.record.startsWith('#') ? { ...p, record: `${file.name} ${p.record}` } : p);
      }
    };
    file.start();
  };
  try {
    unzip.push(bytes, true);
  } catch (err) {
    out.problems.push({ source, record: '(zip)', why: `corrupt zip: ${(err as Error).message}` });
  }
  return out;
}
