/**
 * Programs that use ptrace under the gate (strace, gdb, a PTRACE_TRACEME), and fdscan itself run
 * under a tracer: real programs, real tracers.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fdscanBin } from '../helpers/fixture.js';

const linux = process.platform === 'linux';
const has = (command: string, args: string[]): boolean => linux && spawnSync(command, args, { stdio: 'ignore' }).status === 0;
const withStrace = has('strace', ['-V']) ? test : test.skip;

withStrace('fdscan run under strace -f: ptrace is refused, and the warning names the tracer instead of blaming yama or a sandbox', (t) => {
  const result = spawnSync('strace', ['-f', '-o', '/dev/null', process.execPath, fdscanBin, 'gate', '--allow-unverified', '--', 'true'], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' },
  });
  t.is(result.status, 0, result.stderr);
  const match = /^warning: ptrace refused \(EPERM: fdscan is being traced by (\d+) \(strace\), which also traces the command it starts\); sampling/m.exec(result.stderr);
  t.truthy(match, result.stderr);
  t.notRegex(result.stderr, /yama|sandbox/);
});
