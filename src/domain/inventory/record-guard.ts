import type { ContainerRecord, PodRecord } from './inventory.ts';

/**
 * Cheap shape checks for records read back from the index. Redis is a trust boundary: anyone who can write
 * to it can plant anything, so a record is used only when it has exactly the shape scope writes. Only the
 * records a query touches are checked (a few hundred at most), by hand rather than with a schema library,
 * because the digest lookup's whole budget is a few milliseconds. Fields the checks do not know (added by a
 * newer scope) are let through untouched; the optional `role` of a container, if present, must be a string.
 */

const CONTAINER_TYPES: ReadonlySet<string> = new Set(['container', 'init', 'ephemeral']);
const OPTIONAL_CONTAINER_STRINGS = [
  'repository',
  'tag',
  'digest',
  'configId',
  'imageID',
  'startedAt',
  'role',
];
const OPTIONAL_POD_STRINGS = ['node', 'phase', 'startTime'];
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** A PodRecord parsed from stored JSON, or undefined when the JSON or its shape is not what scope writes. */
export function parsePodRecord(json: string): PodRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  return isPodRecord(value) ? value : undefined;
}

export function isPodRecord(v: unknown): v is PodRecord {
  if (!isObject(v)) return false;
  if (!nonEmpty(v.cluster) || !nonEmpty(v.namespace) || !nonEmpty(v.name)) return false;
  if (typeof v.environment !== 'string' || typeof v.uid !== 'string') return false;
  if (!optionalStrings(v, OPTIONAL_POD_STRINGS)) return false;
  const w = v.workload;
  if (!isObject(w) || !nonEmpty(w.kind) || !nonEmpty(w.name)) return false;
  if (!Array.isArray(v.containers)) return false;
  for (const c of v.containers) if (!isContainerRecord(c)) return false;
  return true;
}

function isContainerRecord(v: unknown): v is ContainerRecord {
  if (!isObject(v)) return false;
  if (!nonEmpty(v.name) || typeof v.image !== 'string') return false;
  if (typeof v.type !== 'string' || !CONTAINER_TYPES.has(v.type)) return false;
  if (!optionalStrings(v, OPTIONAL_CONTAINER_STRINGS)) return false;
  return v.digest === undefined || DIGEST.test(v.digest as string);
}

function optionalStrings(v: Record<string, unknown>, keys: readonly string[]): boolean {
  for (const k of keys) if (v[k] !== undefined && typeof v[k] !== 'string') return false;
  return true;
}

function nonEmpty(v: unknown): v is string {
  return typeof v === 'string' && v !== '';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
