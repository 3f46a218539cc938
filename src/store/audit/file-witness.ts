import { appendFile, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import {
  type AuditWitness,
  type ChainHead,
  type WitnessRecord,
  witnessRecordSchema,
} from '../../domain/audit-log/chain.ts';

/**
 * Appends the chain head to a JSON-lines file outside Redis (mode 0600, append only). Point it at storage an
 * attacker with Redis access cannot rewrite: another volume, a host path shipped to log storage, WORM storage.
 */
export class FileWitness implements AuditWitness {
  readonly name: string;
  readonly #path: string;
  readonly #source: string;

  constructor(path: string, label = 'scope') {
    this.#path = path;
    this.name = `file ${path}`;
    this.#source = `${label}@${hostname()}:${process.pid}`;
  }

  async record(head: ChainHead): Promise<void> {
    const rec: WitnessRecord = { ...head, witnessedAt: new Date().toISOString(), source: this.#source };
    await appendFile(this.#path, `${JSON.stringify(rec)}\n`, { mode: 0o600, flag: 'a' });
  }
}

/** Reads a witness file; malformed lines are counted, never trusted. */
export async function readWitnessFile(
  path: string,
): Promise<{ records: WitnessRecord[]; unreadable: number }> {
  const text = await readFile(path, 'utf8');
  const records: WitnessRecord[] = [];
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = witnessRecordSchema.safeParse(JSON.parse(line));
      if (r.success) records.push({ ...r.data, source: `${r.data.source} (${path})` });
      else unreadable++;
    } catch {
      unreadable++;
    }
  }
  return { records, unreadable };
}
