#!/usr/bin/env node
":" //; FDSCAN_CALLER=; [ -r /proc/$$/status ] && while read -r FDSCAN_CALLER; do case $FDSCAN_CALLER in SigIgn:*) break;; esac; FDSCAN_CALLER=; done < /proc/$$/status; [ -n "$FDSCAN_CALLER" ] || FDSCAN_CALLER="SigIgn: $(ps -o sigignore= -p $$ 2>/dev/null | tr -d ' ')"; FDSCAN_CALLER="sigign=${FDSCAN_CALLER#SigIgn:?} nofile=$(ulimit -S -n) closed="; [ -e /dev/fd/0 ] || FDSCAN_CALLER=${FDSCAN_CALLER}0; [ -e /dev/fd/1 ] || FDSCAN_CALLER=${FDSCAN_CALLER}1; [ -e /dev/fd/2 ] || FDSCAN_CALLER=${FDSCAN_CALLER}2; [ -r /proc/$$/environ ] && FDSCAN_CALLER="$FDSCAN_CALLER environ:$(od -An -v -tx1 /proc/$$/environ)"; [ ${#FDSCAN_CALLER} -lt 130000 ] || FDSCAN_CALLER="${FDSCAN_CALLER%% environ:*} pwd:$(grep -z ^PWD= /proc/$$/environ | tr -d '\0')"; FDSCAN_CALLER=$FDSCAN_CALLER exec node "$0" "$@"
// Line 2 is for /bin/sh, a comment to JavaScript. Installed on Linux or macOS, this file's first
// line becomes `#!/bin/sh` (install-launcher.js): the shell records what Node resets before any
// JavaScript runs (ignored signals, the soft descriptor limit; and the environment as given, which
// the shell reorders and rewrites: in hex, or only PWD where that exceeds the kernel's 128 KiB for
// one variable) and execs Node on this file.
// The command line is one bundled file, dist/fdscan.js (`npm run build`, bin/bundle.js).
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
