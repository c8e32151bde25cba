#!/usr/bin/env node
// fdscan's command as Node runs it: on Linux and macOS through bin/fdscan, the shell launcher that
// first records what Node resets (src/launch/caller-state.ts); on Windows, and as `node bin/fdscan.js`,
// directly. The command line is one bundled file, dist/fdscan.js (`npm run build`, bin/bundle.js).
import module from 'node:module';
// Node 22.1+ keeps V8's compiled code between runs (module.enableCompileCache). Not in Node's
// default os.tmpdir()/node-compile-cache: any user can create that first, and the per-user
// folder in it too, then plant code that the next fdscan run as root would load. dist/ is
// writable only by whoever could change fdscan's code anyway (another user's run just caches
// nothing). The umask keeps the folders Node creates from being group or world writable. A cache
// that cannot be made or written only costs the speed-up: Node reports it and never throws.
if (module.enableCompileCache) {
  const umask = process.umask(0o022);
  try { module.enableCompileCache(`${import.meta.dirname}/../dist/.compile-cache`); } catch {} finally { process.umask(umask); }
}
// Loading can fail before fdscan's own error path exists (a descriptor limit too low for Node's
// module loader): that too is one line and exit 2.
const loaded = await import('../dist/fdscan.js').catch((error) => {
  process.stderr.write(`fdscan: cannot load its modules: ${error.code === 'EMFILE' ? 'too many open files (raise the limit: ulimit -n)' : error.message}\n`);
  process.exitCode = 2;
});
await loaded?.main(process.argv.slice(2));
