/**
 * `fdscan lifecycle` on Windows (Node's spawn, the child read as soon as it started) against a real
 * node.exe. Runs on Windows and under wine in the Windows lane; skipped visibly elsewhere.
 */
import test from 'ava';
import * as kernel32 from '../../../probes/win32/kernel32.js';
import { runCli } from '../../helpers/cli.js';

const skip = process.platform !== 'win32';
const win = skip ? test.skip : test.serial;

win('lifecycle: an inheritable event of fdscan reaches the spawned node.exe (read after start), and nothing outlives its step', (t) => {
  // fdscan inherits the event from this process (Node spawns with bInheritHandles TRUE), at the same value.
  const event = kernel32.createEventW(kernel32.securityAttributes(true), true, false, null)!;
  try {
    const result = runCli(['lifecycle', '--json', '--', process.execPath, '-e', 'process.stdin.pipe(process.stdout)']);
    t.is(result.code, 0, result.stderr);
    const document = JSON.parse(result.stdout) as {
      schema: string; child: { fds: Array<{ fd: number; type: string }>; readAfterStart?: boolean }; stdoutBytes: number; outlived: unknown[];
    };
    t.is(document.schema, 'fdscan/lifecycle@1');
    t.true(document.child.readAfterStart);
    t.deepEqual(document.child.fds.map((d) => [d.fd, d.type]), [[Number(event), 'Event']]);
    t.true(document.stdoutBytes > 0, 'communicate read the echo back');
    t.deepEqual(document.outlived, []);
  } finally {
    kernel32.closeHandle(event);
  }
});
