/** At any descriptor limit fdscan works or says one line and exits 2: never a stack trace, never a verdict it could not reach. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fdscanBin } from '../helpers/fixture.js';

const linux = process.platform === 'linux' ? test : test.skip;

/** fdscan ARGS under `ulimit -n LIMIT` (soft and hard). */
function underLimit(limit: number, args: string[]): { code: number | null; stderr: string } {
  const result = spawnSync('/bin/sh', ['-c', `ulimit -n ${limit} && exec "$@"`, 'sh', process.execPath, fdscanBin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: result.status, stderr: result.stderr };
}

for (const limit of [24, 32, 40, 64]) {
  linux(`ulimit -n ${limit}: audit, gate and inherit-diff work or say one line and exit 2`, (t) => {
    for (const args of [['--no-peers', String(process.pid)], ['gate', '--', 'true'], ['inherit-diff', '--', 'true']]) {
      const { code, stderr } = underLimit(limit, args);
      t.true(code === 0 || code === 2, `${args.join(' ')}: exit ${code}: ${stderr}`);
      t.notRegex(stderr, /\n\s+at |node:internal|Node\.js v/, `${args.join(' ')}: no stack trace`);
      if (code === 2) t.regex(stderr, /^fdscan: [^\n]*(ulimit -n|descriptor limit)[^\n]*\n$/, `${args.join(' ')}: one line naming the limit`);
    }
  });
}
