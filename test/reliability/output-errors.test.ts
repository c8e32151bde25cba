/** Where fdscan's output cannot go: a reader that left ends it quietly, a full device is one line and exit 2. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fdscanBin } from '../helpers/fixture.js';

const linux = process.platform === 'linux' ? test : test.skip;

linux('fdscan --all | head -1: no EPIPE trace, exit 0, ten times over', (t) => {
  for (let i = 0; i < 10; i++) {
    const result = spawnSync('/bin/bash', ['-o', 'pipefail', '-c', '"$@" | head -1 > /dev/null', 'sh', process.execPath, fdscanBin, '--all'], { encoding: 'utf8' });
    t.is(result.stderr, '', `run ${i}`);
    t.is(result.status, 0, `run ${i}`);
  }
});

linux('output to /dev/full: one line naming ENOSPC, exit 2, text and JSON', (t) => {
  for (const args of [['--all', '--no-peers'], ['--all', '--json', '--no-peers']]) {
    const result = spawnSync('/bin/sh', ['-c', '"$@" > /dev/full', 'sh', process.execPath, fdscanBin, ...args], { encoding: 'utf8' });
    t.is(result.status, 2, args.join(' '));
    t.regex(result.stderr, /^fdscan: [^\n]*ENOSPC[^\n]*\n$/);
  }
});
