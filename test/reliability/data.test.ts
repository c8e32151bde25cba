/**
 * The wrapped command's data is never lost: stdout and stderr together, binary, several MB, byte
 * for byte; exit statuses and signal deaths exact. (stdin→stdout through cat and the common exit
 * statuses are in test/cli/run-command and inherit-diff-command; this adds stderr, both streams
 * at once, and the signal deaths those do not cover.)
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fdscanBin } from '../helpers/fixture.js';

const linux = process.platform === 'linux' ? test : test.skip;

const MODES: Array<[string, string[]]> = [
  ['run', ['run']],
  ['run --close-fds', ['run', '--close-fds']],
  ['inherit-diff -o FILE', ['inherit-diff', '--json', '-o', '/dev/null']],
];

for (const [name, args] of MODES) {
  linux(`${name}: several MB of binary stdout and stderr at once, and stdin, byte for byte`, (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'fdscan-data-'));
    try {
      const out = randomBytes(5 * 1024 * 1024 + 17);
      const err = randomBytes(3 * 1024 * 1024 + 5);
      const input = randomBytes(2 * 1024 * 1024 + 3);
      writeFileSync(join(dir, 'out'), out);
      writeFileSync(join(dir, 'err'), err);
      // cat the stdin to stdout after the file, interleaved with stderr in big writes.
      const script = 'cat "$1/out" & cat "$1/err" >&2; wait; cat';
      const result = spawnSync(process.execPath, [fdscanBin, ...args, '--', 'sh', '-c', script, 'sh', dir], { input, maxBuffer: 64 * 1024 * 1024 });
      t.is(result.status, 0);
      t.true(result.stdout.equals(Buffer.concat([out, input])), `stdout: ${result.stdout.length} bytes for ${out.length + input.length}`);
      t.true(result.stderr.equals(err), `stderr: ${result.stderr.length} bytes for ${err.length}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  linux(`${name}: exit statuses and signal deaths exact`, (t) => {
    const status = (script: string) => spawnSync(process.execPath, [fdscanBin, ...args, '--', 'sh', '-c', script], { stdio: 'ignore' }).status;
    t.is(status('exit 0'), 0);
    t.is(status('exit 255'), 255);
    t.is(status('kill -KILL $$'), 137);
    t.is(status('kill -SEGV $$'), 139);
    t.is(status('kill -USR1 $$'), 138);
  });
}
