#!/usr/bin/env node
// Loading can fail before fdscan's own error path exists (a descriptor limit too low for Node's
// module loader): that too is one line and exit 2.
const loaded = await import('../dist/src/cli/main.js').catch((error) => {
  process.stderr.write(`fdscan: cannot load its modules: ${error.code === 'EMFILE' ? 'too many open files (raise the limit: ulimit -n)' : error.message}\n`);
  process.exitCode = 2;
});
await loaded?.main(process.argv.slice(2));
