/**
 * Permissions: fdscan run by an ordinary user. Needs root to create that user (useradd); elsewhere
 * the tests are skipped, chosen when the file loads so that ava reports them as skipped, with the
 * reason in their titles. The user is removed afterwards.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fixturesDir } from '../helpers/fixture.js';
import { createOtherUser, otherUserUnavailable, unreadableFor, type OtherUser } from '../helpers/other-user.js';

/** Python for the user: the system one (a pyenv shim under /root would be out of its reach). */
const PYTHON = '/usr/bin/python3';

const skipReason = otherUserUnavailable() ?? (existsSync(PYTHON) ? undefined : `${PYTHON} not installed`);
const asUser = skipReason ? test.serial.skip : test.serial;
const title = (text: string): string => (skipReason ? `${text} (skipped: ${skipReason})` : text);
let user: OtherUser | undefined;

test.before(() => {
  if (skipReason) return;
  user = createOtherUser();
  // Asked of the kernel, as the user: an ACL or a mount may say no where mode bits say yes.
  const blocked = unreadableFor(user) ?? (user.run('/bin/sh', ['-c', 'test -x "$1"', 'sh', PYTHON]).code === 0 ? undefined : PYTHON);
  if (blocked) throw new Error(`${blocked} is not readable by ${user.name}`);
});

test.after.always(() => user?.remove());

/** `fdscan ARGS` as the throwaway user, in its own folder. */
function fdscanAs(args: string[]): { code: number | null; stdout: string; stderr: string } {
  return user!.fdscan(args);
}

asUser(title('auditing a root-owned process as another user: exit 2, access denied, says who can read it'), (t) => {
  const result = fdscanAs([String(process.pid)]);
  t.is(result.code, 2, result.stderr);
  t.regex(result.stderr, new RegExp(`cannot read descriptors of pid ${process.pid}: permission denied; root or the process's own user \\(uid 0\\) can read it`));
  t.notRegex(result.stderr, /\n\s+at /, 'no stack trace');
  const json = fdscanAs([String(process.pid), '--json']);
  t.is(json.code, 2);
  t.regex(json.stderr, /permission denied/);
});

asUser(title('--all as another user skips and counts unreadable processes, exit 0'), (t) => {
  const text = fdscanAs(['--all', '--no-peers']);
  t.is(text.code, 0, text.stderr);
  const counts = /(\d+) process(?:es)? audited, (\d+) not readable by this user/.exec(text.stdout);
  t.truthy(counts, text.stdout.slice(-300));
  t.true(Number(counts?.[2]) > 0, 'root processes are counted as unreadable');
  const json = fdscanAs(['--all', '--json', '--no-peers']);
  t.is(json.code, 0, json.stderr);
  const document = JSON.parse(json.stdout) as { unreadable: number; processes: Array<{ uid?: number }>; failures: Array<{ pid: number; code: string }> };
  t.true(document.unreadable > 0);
  t.is(document.failures.filter((f) => f.code === 'EACCESS_DENIED').length, document.unreadable);
  t.true(document.failures.every((f) => f.code === 'EACCESS_DENIED' || f.code === 'ENOPROCESS'), 'every failure keeps its code');
  t.true(document.failures.some((f) => f.pid === process.pid && f.code === 'EACCESS_DENIED'));
  t.true(document.processes.every((p) => p.uid === user!.uid), 'only the user\'s own processes are audited');
});

asUser(title('inherit-diff and run on the user\'s own command need no root'), (t) => {
  const traced = fdscanAs(['inherit-diff', '--json', '--', 'sh', '-c', 'cat /dev/null; exit 3']);
  t.is(traced.code, 3, traced.stderr);
  const document = JSON.parse(traced.stderr) as { method: string; tree: Array<{ pid: number }> };
  t.is(document.method, 'ptrace', 'exact tracing, not the sampling fallback');
  t.true(document.tree.length >= 2, traced.stderr);
  const run = fdscanAs(['run', '--close-fds', '--', 'sh', '-c', 'ls /proc/$$/fd; exit 4']);
  t.is(run.code, 4, run.stderr);
  t.deepEqual(run.stdout.split(/\s+/).filter(Boolean), ['0', '1', '2']);
  const self = fdscanAs(['run', '--', 'sh', '-c', `exec "${user!.node}" "${user!.fdscanBin}" --json --no-peers`]);
  t.is(self.code, 0, self.stderr);
});

interface AuditSet {
  processes: Array<{ pid: number; uid?: number; fds: unknown[] }>;
  failures: Array<{ pid: number; code: string; message: string }>;
}

/** PF_KTHREAD in the flags field (9) of /proc/PID/stat: a kernel thread, which has no descriptor table. */
const PF_KTHREAD = 0x00200000;

/**
 * Pids whose /proc folder root owns: processes another user cannot read. Kernel threads are left
 * out: --all does not audit them (they hold no table), it counts them as `kernelThreads`.
 */
function rootOwnedPids(): Set<number> {
  const pids = new Set<number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (statSync(`/proc/${name}`).uid !== 0) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const flags = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]);
      if ((flags & PF_KTHREAD) === 0) pids.add(Number(name));
    } catch { /* exited meanwhile: not a stable process */ }
  }
  return pids;
}

// --all --json lists in `failures` every process it could not read, root's as EACCESS_DENIED and
// those that exited during the scan as ENOPROCESS (before, it left the second kind out).
(skipReason ? test.serial.skip : test.serial)(title('--all --json lists every process it could not read: root\'s as EACCESS_DENIED, vanished ones as ENOPROCESS'), async (t) => {
  // The user runs its own copy: the checkout may be out of its reach.
  const script = join(user!.home, 'churn-processes.py');
  copyFileSync(join(fixturesDir, 'churn-processes.py'), script);
  const churn = spawn(PYTHON, [script, user!.home], {
    uid: user!.uid, gid: user!.gid, cwd: user!.home, stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => churn.once('exit', resolve));
  try {
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: churn.stdout! }).once('line', resolve);
      churn.once('exit', (code) => reject(new Error(`churn-processes.py exited with ${code}`)));
    });
    const churner = JSON.parse(first) as { pid: number; held: number };
    const rootBefore = rootOwnedPids();
    // Each run has about ten short-lived children of the churner listed and gone before they are
    // read; a few runs make sure at least one of them is caught.
    let document: AuditSet | undefined;
    let runs = 0;
    for (; runs < 5 && !document?.failures.some((f) => f.code === 'ENOPROCESS'); runs++) {
      const result = fdscanAs(['--all', '--json', '--no-peers']);
      t.is(result.code, 0, result.stderr);
      document = JSON.parse(result.stdout) as AuditSet;
    }
    const rootAfter = rootOwnedPids();
    const { processes, failures } = document!;
    t.log(`run ${runs}: ${processes.length} processes audited, ${failures.length} failures`);
    for (const f of failures) {
      t.true(Number.isInteger(f.pid) && ['EACCESS_DENIED', 'ENOPROCESS'].includes(f.code) && typeof f.message === 'string' && f.message !== '', JSON.stringify(f));
    }
    const listed = [...processes.map((p) => p.pid), ...failures.map((f) => f.pid)];
    t.is(new Set(listed).size, listed.length, 'no process listed twice');
    t.true(processes.some((p) => p.pid === churner.pid && p.fds.length >= churner.held), 'the churner, the user\'s own, is audited');
    // Every root process alive before and after the scan is a failure, EACCESS_DENIED: none left out.
    const denied = new Set(failures.filter((f) => f.code === 'EACCESS_DENIED').map((f) => f.pid));
    t.deepEqual([...rootBefore].filter((pid) => rootAfter.has(pid) && !denied.has(pid)), []);
    t.true(denied.has(process.pid));
    const vanished = failures.filter((f) => f.code === 'ENOPROCESS');
    t.true(vanished.length > 0, 'a process that exited during the scan is listed as ENOPROCESS');
    t.deepEqual(vanished.filter((f) => existsSync(`/proc/${f.pid}`)).map((f) => f.pid), [], 'ENOPROCESS only for processes that are gone');
  } finally {
    churn.stdin!.end();
    churn.kill('SIGTERM');
    await exited;
  }
});

asUser(title('the user\'s own zombie is audited as a zombie with no descriptors, not denied (its /proc files are root\'s)'), (t) => {
  // sh execs sleep, which never reaps the `true` it started: that child stays a zombie.
  const script = 'sh -c \'true & exec sleep 3\' >/dev/null 2>&1 & parent=$!; sleep 0.5; zombie=$(pgrep -P "$parent"); ' +
    'echo "$zombie"; stat -c %U "/proc/$zombie/fd"; exec "$0" "$1" "$zombie" --json --no-peers';
  const result = user!.run('/bin/sh', ['-c', script, user!.node, user!.fdscanBin]);
  const [zombie, fdOwner, ...json] = result.stdout.split('\n');
  t.is(fdOwner, 'root', 'the premise: a zombie\'s /proc/PID/fd belongs to root');
  t.is(result.code, 0, result.stderr);
  const audit = JSON.parse(json.join('\n')) as { pid: number; zombie?: boolean; uid: number; fds: unknown[] };
  t.like(audit, { pid: Number(zombie), zombie: true, uid: user!.uid, fds: [] });
});
