#!/usr/bin/env node
// Entry point for `scope` (npm bin, `npm run cli`): plain JavaScript, so the on-disk compile cache is on before
// the first TypeScript file loads and a warm start needs no type stripping at all (docs/PERFORMANCE.md).
import { enableCompileCache } from 'node:module';

enableCompileCache();
await import('../src/main.ts');
