// npm runs this after installing fdscan (postinstall). On Linux and macOS it makes bin/fdscan.js
// start as a POSIX shell script (`#!/bin/sh`): its second line then records what the caller gave
// that Node resets before any JavaScript runs (ignored signals, the soft descriptor limit), so a
// wrapped command gets them back. On Windows npm builds its .cmd shim from the first line, which
// must name node, so the file is left as it is. In a checkout of fdscan's sources (tsconfig.json
// beside bin/) nothing changes either: the file stays as committed, and `sh bin/fdscan.js` is the
// launcher. A failure here never fails the install: fdscan then starts through Node directly.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const NODE_LINE = '#!/usr/bin/env node\n';
const SHELL_LINE = '#!/bin/sh\n';

try {
  const entry = new URL('./fdscan.js', import.meta.url);
  const checkout = existsSync(new URL('../tsconfig.json', import.meta.url));
  const text = readFileSync(entry, 'utf8');
  if (process.platform !== 'win32' && !checkout && existsSync('/bin/sh') && text.startsWith(NODE_LINE)) {
    writeFileSync(entry, SHELL_LINE + text.slice(NODE_LINE.length));
  }
} catch (error) {
  process.stderr.write(`fdscan: left bin/fdscan.js to start through Node (${error.message})\n`);
}
