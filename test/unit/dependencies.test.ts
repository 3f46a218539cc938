import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tokenize } from '../../src/domain/command.ts';

const root = join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));
}

describe('dependencies', () => {
  it('every runtime dependency is imported as a value somewhere in src (type-only ones are dev dependencies)', () => {
    const text = sources(join(root, 'src')).join('\n');
    for (const name of Object.keys(pkg.dependencies)) {
      const valueImport = new RegExp(
        `^import (?!type )[^;]*?from '${name.replace(/[/.]/g, '\\$&')}(/[^']*)?';|import\\('${name.replace(/[/.]/g, '\\$&')}`,
        'm',
      );
      expect(
        valueImport.test(text),
        `${name} is a runtime dependency but src never imports it as a value`,
      ).toBe(true);
    }
  });

  it('no @types package for a library that ships its own types', () => {
    expect(Object.keys(pkg.devDependencies)).not.toContain('@types/js-yaml');
  });

  it('a no-break space separates words without a special case', () => {
    expect(tokenize('digest\u00A0sha256:abc')).toEqual(['digest', 'sha256:abc']);
  });
});
