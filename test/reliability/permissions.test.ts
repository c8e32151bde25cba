/**
 * Permissions: fdscan run by an ordinary user. Needs root to create that user (useradd) and
 * skips visibly otherwise; the user is removed afterwards.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fdscanBin, repoRoot } from '../helpers/fixture.js';

interface User { name: string; uid: number; gid: number }

const PATHS = ['/usr/sbin/useradd', '/usr/sbin/userdel'];
let user: User | undefined;
let skipReason: string | undefined;

test.before(() => {
  if (process.platform !== 'linux') { skipReason = 'Linux only'; return; }
  if (process.getuid?.() !== 0) { skipReason = 'not root: cannot create a throwaway user'; return; }
  if (!PATHS.every((p) => existsSync(p))) { skipReason = 'useradd/userdel not installed'; return; }
  const name = `fdscan${randomBytes(3).toString('hex')}`;
  const made = spawnSync('/usr/sbin/useradd', ['--no-create-home', '--shell', '/bin/sh', '--user-group', name], { encoding: 'utf8' });
  if (made.status !== 0) { skipReason = `useradd failed: ${made.stderr.trim()}`; return; }
  const id = (flag: string) => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
  user = { name, uid: id('-u'), gid: id('-g') };
  // The user must reach node, the built code and node_modules: every directory on the way
  // must be traversable by others. No copy is made; when not, skip and say why.
  const blocked = [process.execPath, fdscanBin, `${repoRoot}/dist/src/index.js`, `${repoRoot}/node_modules/yargs/package.json`].find((p) => !readableAs(user!, p));
  if (blocked) skipReason = `${blocked} is not readable by another user (a parent directory is not world-traversable)`;
});

test.after.always(() => {
  if (user) spawnSync('/usr/sbin/userdel', ['--force', user.name]);
});

/** Whether `user` can read `path`, asked of the kernel by a process running as that user. */
function readableAs(who: User, path: string): boolean {
  return spawnSync('/bin/sh', ['-c', 'test -r "$1"', 'sh', path], { uid: who.uid, gid: who.gid }).status === 0;
}

/** `fdscan ARGS` as the throwaway user. */
function fdscanAs(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [fdscanBin, ...args], {
    uid: user!.uid, gid: user!.gid, cwd: '/', encoding: 'utf8', maxBuffer: 256 * 1024 * 1024,
    env: { PATH: process.env.PATH, HOME: '/', NO_COLOR: '1' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ready(t: { log: (...v: unknown[]) => void; pass: () => void }): boolean {
  if (skipReason) {
    t.log(`SKIPPED: ${skipReason}`);
    t.pass();
    return false;
  }
  return true;
}

test.serial('auditing a root-owned process as another user: exit 2, access denied, says who can read it', (t) => {
  if (!ready(t)) return;
  const result = fdscanAs([String(process.pid)]);
  t.is(result.code, 2, result.stderr);
  t.regex(result.stderr, new RegExp(`cannot read descriptors of pid ${process.pid}: permission denied; root or the process's own user \\(uid 0\\) can read it`));
  t.notRegex(result.stderr, /\n\s+at /, 'no stack trace');
  const json = fdscanAs([String(process.pid), '--json']);
  t.is(json.code, 2);
  t.regex(json.stderr, /permission denied/);
});

test.serial('--all as another user skips and counts unreadable processes, exit 0', (t) => {
  if (!ready(t)) return;
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

test.serial('inherit-diff and run on the user\'s own command need no root', (t) => {
  if (!ready(t)) return;
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
