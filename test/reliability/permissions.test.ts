/**
 * Permissions: fdscan run by an ordinary user. Needs root to create that user (useradd); elsewhere
 * the tests are skipped, chosen when the file loads so that ava reports them as skipped, with the
 * reason in their titles. The user is removed afterwards.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fdscanBin, fixturesDir, repoRoot } from '../helpers/fixture.js';

interface User { name: string; uid: number; gid: number }

const PATHS = ['/usr/sbin/useradd', '/usr/sbin/userdel'];
/** Python for the user: the system one (a pyenv shim under /root would be out of its reach). */
const PYTHON = '/usr/bin/python3';
/** What the user must reach: node, the built code, a dependency, the fixture, python. */
const NEEDED = [process.execPath, fdscanBin, join(repoRoot, 'dist/src/index.js'), join(repoRoot, 'node_modules/yargs/package.json'),
  join(fixturesDir, 'churn-processes.py'), PYTHON];

/** Whether a user with no group in common can read `path`: o+r on it, o+x on every folder above. */
function openToOthers(path: string): boolean {
  let at: string;
  try { at = realpathSync(path); } catch { return false; }
  if ((statSync(at).mode & 0o004) === 0) return false;
  for (let dir = dirname(at); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false;
    if (dir === '/') return true;
  }
}

function whyNot(): string | undefined {
  if (process.platform !== 'linux') return 'Linux only';
  if (process.getuid?.() !== 0) return 'not root: cannot create a throwaway user';
  if (!PATHS.every((p) => existsSync(p))) return 'useradd/userdel not installed';
  const blocked = NEEDED.find((p) => !openToOthers(p));
  return blocked ? `${blocked} is not readable by another user (missing, or a folder above is not world-traversable)` : undefined;
}

const skipReason = whyNot();
const asUser = skipReason ? test.serial.skip : test.serial;
const title = (text: string): string => (skipReason ? `${text} (skipped: ${skipReason})` : text);
let user: User | undefined;
/** A folder of the tests' own that the user may enter (mkdtemp makes 0700). */
let workdir: string | undefined;

test.before(() => {
  if (skipReason) return;
  const name = `fdscan${randomBytes(3).toString('hex')}`;
  const made = spawnSync('/usr/sbin/useradd', ['--no-create-home', '--shell', '/bin/sh', '--user-group', name], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`useradd failed: ${made.stderr.trim()}`);
  const id = (flag: string) => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
  user = { name, uid: id('-u'), gid: id('-g') };
  // The mode bits said yes; ask the kernel, as the user, in case an ACL or a mount says no.
  const blocked = NEEDED.find((p) => !readableAs(user!, p));
  if (blocked) throw new Error(`${blocked} is not readable by ${name} although its mode bits allow it`);
  workdir = mkdtempSync(join(tmpdir(), 'fdscan-perm-'));
  chmodSync(workdir, 0o755);
  if (!readableAs(user, workdir)) throw new Error(`${workdir} (mode 0755) is out of ${name}'s reach: a folder above it is not world-traversable`);
});

test.after.always(() => {
  if (user) spawnSync('/usr/sbin/userdel', ['--force', user.name]);
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

/** Whether `user` can read `path`, asked of the kernel by a process running as that user. */
function readableAs(who: User, path: string): boolean {
  return spawnSync('/bin/sh', ['-c', 'test -r "$1"', 'sh', path], { uid: who.uid, gid: who.gid }).status === 0;
}

/** `fdscan ARGS` as the throwaway user. */
function fdscanAs(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [fdscanBin, ...args], {
    uid: user!.uid, gid: user!.gid, cwd: workdir, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024,
    env: { PATH: process.env.PATH, HOME: workdir, NO_COLOR: '1' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
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
  const self = fdscanAs(['run', '--', 'sh', '-c', `exec "${process.execPath}" "${fdscanBin}" --json --no-peers`]);
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
  const churn = spawn(PYTHON, [join(fixturesDir, 'churn-processes.py'), workdir!], {
    uid: user!.uid, gid: user!.gid, cwd: workdir, stdio: ['pipe', 'pipe', 'inherit'],
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
