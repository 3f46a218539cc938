// Preloaded with `node --import` by tests: prints every module URL the process loaded to stderr at exit, one
// line prefixed "module-trace:", so a test can assert what a command did NOT load.
import { registerHooks } from 'node:module';

const seen = new Set();
registerHooks({
  load(url, context, next) {
    seen.add(url);
    return next(url, context);
  },
});
process.on('exit', () => {
  for (const url of seen) process.stderr.write(`module-trace: ${url}\n`);
});
