import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const GOLDEN_DIR = fileURLToPath(new URL('../golden/', import.meta.url));

/** Absolute path of a golden file under test/golden. */
export function goldenPath(name: string): string {
  return `${GOLDEN_DIR}${name}`;
}

/**
 * Compares `value` with the golden file `test/golden/<name>`: a `.txt` golden holds a string as it is,
 * any other golden holds JSON. A missing or different golden fails. Only UPDATE_GOLDEN=1 (re)writes the file
 * (and the test still passes, with a note): review the new file and commit it.
 */
export function expectGolden(name: string, value: unknown, env: NodeJS.ProcessEnv = process.env): void {
  const path = goldenPath(name);
  const text = name.endsWith('.txt') ? textOf(name, value) : `${JSON.stringify(value, null, 2)}\n`;
  if (env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    console.warn(`golden: wrote test/golden/${name}; review it and commit it.`);
    return;
  }
  if (!existsSync(path)) {
    throw new Error(
      `golden file test/golden/${name} is missing: run the test with UPDATE_GOLDEN=1 to create it, review it and commit it`,
    );
  }
  const stored = readFileSync(path, 'utf8');
  if (name.endsWith('.txt')) {
    expect(text, `output differs from test/golden/${name} (UPDATE_GOLDEN=1 rewrites it)`).toBe(stored);
  } else {
    expect(
      JSON.parse(JSON.stringify(value)),
      `output differs from test/golden/${name} (UPDATE_GOLDEN=1 rewrites it)`,
    ).toEqual(JSON.parse(stored));
  }
}

function textOf(name: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`golden ${name}: a .txt golden needs a string`);
  return `${value}\n`;
}
