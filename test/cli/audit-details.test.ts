/**
 * Details of the audit as a user meets them: -t validated, "K of N" when filtered, what an epoll
 * descriptor watches, the other holders of a shared inet socket, a thread id, a kernel thread, a
 * denial as root explained. Real processes throughout; what this machine cannot set up is skipped
 * visibly, with the reason in the test's title.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { runCli } from '../helpers/cli.js';
import { fdscanBin, startFixture, type RunningFixture } from '../helpers/fixture.js';

interface Manifest { pid: number; child: number; tid: number; epoll: number; watched: number[]; tcp: number; udp: number }
interface Row { fd: number; type: string; target: string; inheritable?: boolean; watches?: number[]; peers?: Array<{ pid: number; fd: number; command: string }>; peerCount?: number }

const linux = process.platform === 'linux';
const linuxTest = linux ? test.serial : test.skip;
let fixture: RunningFixture<Manifest>;
test.before(async () => {
  if (linux) fixture = await startFixture('hold-epoll-and-shared.py');
});
test.after.always(async () => fixture?.stop());

function audit(args: string[]): { pid: number; thread?: number; total?: number; fds: Row[] } {
  const result = runCli([...args, '--json']);
  if (result.code !== 0) throw new Error(`fdscan ${args.join(' ')}: exit ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

test('-t: an unknown type is exit 2 naming the known ones; types in any case, anon kinds and a platform\'s own', (t) => {
  const bad = runCli(['-t', 'SOCK,FOO', String(process.pid)]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^fdscan: unknown descriptor type 'FOO'; known types \(any case\): REG, DIR, FIFO, CHR, BLK, LNK, SOCK, eventfd, eventpoll, /);
  t.is(bad.stdout, '');
  const empty = runCli(['-t', ',', String(process.pid)]);
  t.is(empty.code, 2);
  t.regex(empty.stderr, /^fdscan: -t\/--type needs at least one type/);
  for (const types of ['sock', 'reg,Fifo', 'eventfd', 'EVENTPOLL', ...(linux ? ['bpf-map'] : [])]) {
    const ok = runCli(['-t', types, String(process.pid), '--no-peers', '--json']);
    t.is(ok.code, 0, `${types}: ${ok.stderr}`);
    const wanted = types.toLowerCase().split(',');
    t.true((JSON.parse(ok.stdout).fds as Row[]).every((d) => wanted.includes(d.type.toLowerCase())), types);
  }
});

linuxTest('filtered: "K of N descriptors shown", and `total` in the JSON', (t) => {
  const all = audit([String(fixture.pid), '--no-peers']);
  t.is(all.total, undefined);
  const socks = audit([String(fixture.pid), '--no-peers', '-t', 'sock']);
  t.is(socks.total, all.fds.length);
  // Node's stdio "pipes" are socketpairs: more sockets than the two the fixture opened.
  t.deepEqual(socks.fds.map((d) => d.fd), all.fds.filter((d) => d.type === 'SOCK').map((d) => d.fd));
  t.true(socks.fds.length >= 2 && socks.fds.length < all.fds.length);
  const text = runCli([String(fixture.pid), '--no-peers', '-t', 'SOCK', '-i']);
  t.is(text.code, 0, text.stderr);
  const inheritable = all.fds.filter((d) => d.type === 'SOCK' && d.inheritable).length;
  t.is(text.stdout.split('\n')[1], `${inheritable} of ${all.fds.length} descriptors shown (limit ${softLimitOf(fixture.pid)}), ${inheritable} inheritable`);
});

/** The soft RLIMIT_NOFILE of `pid` as /proc/PID/limits says it. */
function softLimitOf(pid: number): string {
  return /^Max open files\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))![1]!;
}

linuxTest('the header names the soft descriptor limit: "N descriptors (limit S), M inheritable", as the process set it', async (t) => {
  const child = spawn('/bin/sh', ['-c', 'ulimit -Sn 77 && exec sleep 60'], { stdio: 'ignore' });
  try {
    // The limit is set before the exec: wait until the shell became sleep.
    while (!readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').startsWith('sleep')) await new Promise((r) => setTimeout(r, 20));
    const result = runCli([String(child.pid), '--no-peers']);
    t.is(result.code, 0, result.stderr);
    const fds = (JSON.parse(runCli([String(child.pid), '--no-peers', '--json']).stdout) as { fds: Row[] }).fds;
    const inheritable = fds.filter((d) => d.inheritable).length;
    t.is(result.stdout.split('\n')[1], `${fds.length} descriptors (limit 77), ${inheritable} inheritable`);
  } finally {
    child.kill();
  }
});

linuxTest('an epoll descriptor names what it watches: `watches` in JSON, [eventpoll:N,N,N] in the table', (t) => {
  const row = audit([String(fixture.pid), '--no-peers']).fds.find((d) => d.fd === fixture.manifest.epoll)!;
  t.is(row.type, 'eventpoll');
  t.deepEqual([...row.watches!].sort((a, b) => a - b), [...fixture.manifest.watched].sort((a, b) => a - b));
  const text = runCli([String(fixture.pid), '--no-peers', '-t', 'eventpoll']);
  t.regex(text.stdout, /\[eventpoll:\d+,\d+,\d+\]/);
  const shown = /\[eventpoll:([\d,]+)\]/.exec(text.stdout)![1]!.split(',').map(Number);
  t.deepEqual(shown, [...row.watches!].sort((a, b) => a - b), 'ascending, as lsof lists them');
});

linuxTest('a TCP listener and a UDP socket held by two processes name the other holder, both ways', (t) => {
  const { pid, child, tcp, udp } = fixture.manifest;
  const parent = audit([String(pid)]).fds;
  const kid = audit([String(child)]).fds;
  for (const fd of [tcp, udp]) {
    const row = parent.find((d) => d.fd === fd)!;
    t.deepEqual(row.peers, [{ pid: child, fd, command: 'python3' }], `fd ${fd} in the parent`);
    t.is(row.peerCount, 1);
    t.deepEqual(kid.find((d) => d.fd === fd)!.peers, [{ pid, fd, command: 'python3' }], `fd ${fd} in the child`);
  }
  const text = runCli([String(pid), '-t', 'SOCK']);
  t.regex(text.stdout, new RegExp(`tcp 127\\.0\\.0\\.1:\\d+ \\(LISTEN\\) \\(also held by ${child}/python3:${tcp}\\)`));
  t.regex(text.stdout, new RegExp(`udp 127\\.0\\.0\\.1:\\d+ .*\\(also held by ${child}/python3:${udp}\\)`));
  // Without peers, no holders and no count.
  const none = audit([String(pid), '--no-peers']).fds.find((d) => d.fd === tcp)!;
  t.is(none.peers, undefined);
  t.is(none.peerCount, undefined);
});

linuxTest('a thread id is audited as its process, with a note; `thread` in the JSON', (t) => {
  const { pid, tid } = fixture.manifest;
  t.not(tid, pid);
  const document = audit([String(tid), '--no-peers']);
  t.is(document.pid, pid);
  t.is(document.thread, tid);
  t.deepEqual(document.fds.map((d) => d.fd), audit([String(pid), '--no-peers']).fds.map((d) => d.fd));
  const text = runCli([String(tid), '--no-peers']);
  t.is(text.code, 0, text.stderr);
  t.is(text.stdout.split('\n')[1], `pid ${tid} is a thread of this process; threads share its descriptors`);
  t.regex(text.stdout, new RegExp(`^pid ${pid} python3`));
});

/** A kernel thread this machine shows: kthreadd (pid 2) when /proc has it with PF_KTHREAD set. */
function kernelThread(): number | undefined {
  if (!linux) return undefined;
  try {
    const stat = readFileSync('/proc/2/stat', 'latin1');
    const flags = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]);
    return (flags & 0x200000) !== 0 ? 2 : undefined;
  } catch {
    return undefined;
  }
}
const kthread = kernelThread();

(kthread ? test : test.skip)(`a kernel thread has no descriptor table, and says so${kthread ? '' : ' (skipped: no kernel thread in this /proc)'}`, (t) => {
  const text = runCli([String(kthread)]);
  t.is(text.code, 0, text.stderr);
  t.is(text.stdout.split('\n')[1], 'kernel thread: it has no descriptor table');
  const document = JSON.parse(runCli([String(kthread), '--json']).stdout);
  t.true(document.kernelThread);
  t.deepEqual(document.fds, []);
});

/** Why fdscan cannot be run as root in a user namespace of its own here, or undefined when it can. */
function userNamespaceUnavailable(): string | undefined {
  if (!linux) return 'Linux only';
  if (process.getuid?.() !== 0) return 'not root';
  const probe = spawnSync('unshare', ['--user', '--map-root-user', 'true']);
  return probe.status === 0 ? undefined : 'unshare --user --map-root-user is refused here';
}
const noNamespace = userNamespaceUnavailable();

(noNamespace ? test.skip : test.serial)(`denied as root: the likely cause is named, not "root can read it"${noNamespace ? ` (skipped: ${noNamespace})` : ''}`, async (t) => {
  // A process of root that is not dumpable: root of another user namespace may not read it.
  const holder = spawn('python3', ['-c', 'import ctypes, os, sys\nctypes.CDLL(None).prctl(4, 0, 0, 0, 0)\nprint(os.getpid(), flush=True)\nsys.stdin.read()'], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const pid = Number(await new Promise<string>((resolve) => createInterface({ input: holder.stdout! }).once('line', resolve)));
    const result = spawnSync('unshare', ['--user', '--map-root-user', process.execPath, fdscanBin, String(pid)], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    t.is(result.status, 2, result.stderr);
    t.regex(result.stderr, new RegExp(`^fdscan: cannot read descriptors of pid ${pid}: permission denied although fdscan runs as root: fdscan runs in a user namespace \\(uid_map 0 0 1\\) that does not own the process\\n$`));
    t.notRegex(result.stderr, /root or the process's own user/);
  } finally {
    holder.stdin!.end();
    holder.kill();
  }
});
