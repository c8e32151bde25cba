/** `fdscan run --close-fds`: the command receives exactly 0, 1, 2 and the kept descriptors. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fdscanBin } from '../helpers/fixture.js';

const linux = process.platform === 'linux' ? test : test.skip;

/** The descriptors `sh` (which opens none itself) holds when fdscan run starts it with `args`. */
function descriptorsOfCommand(args: string[]): number[] {
  const a = openSync('/etc/hostname', 'r');
  const b = openSync('/etc/passwd', 'r');
  try {
    // fdscan itself starts with extra inheritable descriptors at 40 and 42 (Node 20 marks the low
    // ones it inherits close-on-exec at start-up, but not these).
    const stdio: Array<'ignore' | 'pipe' | number> = ['ignore', 'pipe', 'pipe', ...Array<'ignore'>(37).fill('ignore'), a, 'ignore', b];
    const result = spawnSync(process.execPath, [fdscanBin, 'run', ...args, '--', 'sh', '-c', 'ls /proc/$$/fd'], { stdio, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`fdscan run failed (${result.status}): ${result.stderr}`);
    return result.stdout.split(/\s+/).filter(Boolean).map(Number).sort((x, y) => x - y);
  } finally {
    closeSync(a);
    closeSync(b);
  }
}

linux('without --close-fds the extra descriptors leak through (the precondition of the next tests)', (t) => {
  const fds = descriptorsOfCommand([]);
  t.true(fds.includes(40) && fds.includes(42), `got ${fds.join(',')}`);
});

linux('--close-fds gives the command exactly 0, 1, 2', (t) => {
  t.deepEqual(descriptorsOfCommand(['--close-fds']), [0, 1, 2]);
});

linux('--keep passes the kept descriptors on, and nothing else', (t) => {
  t.deepEqual(descriptorsOfCommand(['--close-fds', '--keep', '42']), [0, 1, 2, 42]);
  t.deepEqual(descriptorsOfCommand(['--close-fds', '--keep', '40,42']), [0, 1, 2, 40, 42]);
});

linux('--keep of a descriptor fdscan did not receive names what it did receive, "none beyond 0, 1, 2" when nothing; keeping 0, 1, 2 is no error', (t) => {
  const inner = [fdscanBin, 'run', '--close-fds'];
  // The outer fdscan passes on nothing beyond 0, 1, 2: the inner one receives only those.
  const bare = (keep: string) => spawnSync(process.execPath, [fdscanBin, 'run', '--close-fds', '--', process.execPath, ...inner, '--keep', keep, '--', 'true'], { encoding: 'utf8' });
  const missing = bare('7');
  t.is(missing.status, 2);
  t.is(missing.stderr, "fdscan: --keep 7: fdscan did not receive that descriptor (it received none beyond 0, 1, 2) (see fdscan --help)\n");
  const stdio = bare('0,1,2');
  t.is(stdio.status, 0, stdio.stderr);
  const a = openSync('/etc/hostname', 'r');
  try {
    const result = spawnSync(process.execPath, [...inner, '--keep', '7,40', '--', 'true'], { stdio: ['ignore', 'pipe', 'pipe', ...Array<'ignore'>(37).fill('ignore'), a], encoding: 'utf8' });
    t.is(result.status, 2);
    t.regex(result.stderr, /^fdscan: --keep 7: fdscan did not receive that descriptor \(it received (\d+, )*40(, \d+)*\) \(see fdscan --help\)\n/);
  } finally {
    closeSync(a);
  }
});

linux('exit statuses and signal deaths pass through; bad usage is 2', (t) => {
  const run = (args: string[]) => spawnSync(process.execPath, [fdscanBin, 'run', ...args], { encoding: 'utf8' }).status;
  t.is(run(['--close-fds', '--', 'sh', '-c', 'exit 6']), 6);
  t.is(run(['--', 'sh', '-c', 'kill -INT $$']), 130);
  t.is(run(['--close-fds', '--', 'fdscan-no-such-command']), 127);
  t.is(run(['--keep', '3', '--', 'true']), 2);
  t.is(run(['--close-fds', '--keep', 'x', '--', 'true']), 2);
});

linux('several MB of binary stdin reach stdout byte for byte', (t) => {
  const input = randomBytes(6 * 1024 * 1024);
  const result = spawnSync(process.execPath, [fdscanBin, 'run', '--close-fds', '--', 'cat'], { input, maxBuffer: 64 * 1024 * 1024 });
  t.is(result.status, 0, result.stderr.toString());
  t.true(Buffer.compare(result.stdout, input) === 0, `stdout differs: ${result.stdout.length} bytes for ${input.length}`);
});
