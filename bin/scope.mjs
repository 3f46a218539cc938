#!/usr/bin/env node
// Entry point for `scope` (npm bin, `npm run cli`). Plain JavaScript, so the on-disk compile cache is on before
// the first TypeScript file loads. `scope cli …` runs from the bundle `npm run build:cli` writes to dist/cli
// when that bundle is newer than every source file; otherwise, and for bot/worker/demo, from src/ as it is.
// Why and what it saves: docs/PERFORMANCE.md, "CLI start-up".
import { existsSync, readdirSync, statSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

enableCompileCache();

const root = new URL('../', import.meta.url);
const bundle = new URL('dist/cli/main.js', root);

/** Newest modification time under `dir` (recursively). */
function newest(dir) {
  let max = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    max = Math.max(max, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return max;
}

function bundleIsFresh() {
  if (process.env.SCOPE_CLI_FROM_SOURCES === '1' || !existsSync(bundle)) return false;
  const built = statSync(bundle).mtimeMs;
  const src = fileURLToPath(new URL('src', root));
  const lock = fileURLToPath(new URL('package-lock.json', root));
  return built > newest(src) && built > statSync(lock).mtimeMs;
}

if (process.argv[2] === 'cli' && bundleIsFresh()) await import(bundle.href);
else await import('../src/main.ts');
