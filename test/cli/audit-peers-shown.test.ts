/**
 * Peers only for the rows an audit shows: with -t or -i dropping every pipe and socket, fdscan reads
 * no other process's descriptors (the peer index is never built); with the sockets kept it does,
 * and they name their peers. strace shows which /proc/PID/fd folders fdscan reads.
 */
import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fdscanBin } from '../helpers/fixture.js';

const hasStrace = process.platform === 'linux' && spawnSync('strace', ['-V']).status === 0;
const linux = hasStrace ? test.serial : test.skip;

let child: ChildProcess;
test.before(async () => {
  // sleep holding a unix socket on its stdin (Node's stdio 'pipe' is a socketpair; the other end is this test's) and a regular file on 3.
  child = spawn('sh', ['-c', 'exec 3</etc/hostname; exec sleep 600 3<&3'], { stdio: ['pipe', 'ignore', 'ignore'] });
  await once(child, 'spawn');
});
test.after.always(() => child?.kill());

/** Rows of `fdscan PID ARGS --json`, and the pids whose /proc/PID/fd fdscan opened or read a link under. */
function traced(args: string[]): { rows: Array<{ fd: number; type: string; peers?: Array<{ pid: number }> }>; read: Set<number> } {
  const run = spawnSync('strace', ['-f', '-qq', '-e', 'trace=openat,readlink,readlinkat', process.execPath, fdscanBin, String(child.pid), '--json', ...args],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
  if (run.status !== 0) throw new Error(`fdscan ${args.join(' ')}: exit ${run.status}: ${run.stderr.slice(-500)}`);
  const read = new Set([...run.stderr.matchAll(/"\/proc\/(\d+)\/fd\b/g)].map((m) => Number(m[1])));
  return { rows: (JSON.parse(run.stdout) as { fds: [] }).fds, read };
}

linux('-t REG: no pipe or socket shown, no other process read for peers', (t) => {
  const { rows, read } = traced(['-t', 'REG']);
  t.true(rows.length > 0 && rows.every((r) => r.type === 'REG'));
  t.deepEqual([...read], [child.pid]);
});

linux('-t SOCK: the socket is shown with this test as its peer, so every process is read', (t) => {
  const { rows, read } = traced(['-t', 'SOCK']);
  const stdin = rows.find((r) => r.fd === 0);
  t.is(stdin?.type, 'SOCK');
  t.true(stdin!.peers!.some((p) => p.pid === process.pid), JSON.stringify(stdin));
  t.true(read.has(process.pid) && read.size > 1);
});
