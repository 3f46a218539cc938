import { existsSync, readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectGolden, goldenPath } from '../support/golden.ts';

describe('golden files', () => {
  it('fails when the golden file is missing, and does not create it', () => {
    const name = 'no-such-golden.slack.json';
    expect(existsSync(goldenPath(name))).toBe(false);
    expect(() => expectGolden(name, { a: 1 }, {})).toThrow(
      /golden file test\/golden\/no-such-golden.slack.json is missing/,
    );
    expect(existsSync(goldenPath(name))).toBe(false);
  });

  it('fails when a committed golden is deleted (digest.slack.json), as a test using it would', () => {
    const stored = JSON.parse(readFileSync(goldenPath('digest.slack.json'), 'utf8'));
    // Same check, pointed at a name that does not exist: what a deleted digest.slack.json looks like.
    expect(() => expectGolden('deleted/digest.slack.json', stored, {})).toThrow(/is missing/);
  });

  it('fails when the output differs', () => {
    const stored = readFileSync(goldenPath('digest.terminal.txt'), 'utf8').replace(/\n$/, '');
    expect(() => expectGolden('digest.terminal.txt', stored, {})).not.toThrow();
    expect(() => expectGolden('digest.terminal.txt', `${stored} changed`, {})).toThrow(
      /differs from test\/golden/,
    );
  });

  it('only UPDATE_GOLDEN=1 writes a golden', () => {
    const name = 'tmp-update-check.slack.json';
    try {
      expectGolden(name, { written: true }, { UPDATE_GOLDEN: '1' });
      expect(JSON.parse(readFileSync(goldenPath(name), 'utf8'))).toEqual({ written: true });
      expect(() => expectGolden(name, { written: true }, {})).not.toThrow();
    } finally {
      rmSync(goldenPath(name), { force: true });
    }
  });
});
