/**
 * `fdscan metrics` on real processes: every value equals what /proc says, label values are the
 * exact names, -o replaces its file in one rename, and what cannot be read is counted, not fatal.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { fdscanBin, fixtureOwner, type RunningFixture } from '../helpers/fixture.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { parseExposition, samplesOf, valueOf, type Exposition } from '../helpers/exposition.js';
import { startNearLimit, type NearLimit } from '../helpers/near-limit.js';
import { procTruth } from '../helpers/proc-truth.js';
import { createOtherUser, otherUserUnavailable } from '../helpers/other-user.js';

const linux = process.platform === 'linux' ? test.serial : test.skip;
const hasStrace = process.platform === 'linux' && spawnSync('strace', ['-V']).status === 0;
const noOtherUser = otherUserUnavailable();
const prefix = `fdm${randomBytes(2).toString('hex')}`;
/** a's name holds a quote, a backslash, a newline and an escape character. */
const names = { a: `${prefix}"\\\n\x1b`, b: `${prefix}b` };
let a: RunningFixture<NearLimit>;
let b: RunningFixture<NearLimit>;
let b2: RunningFixture<NearLimit>;

test.before(async () => {
  if (process.platform !== 'linux') return;
  [a, b, b2] = await Promise.all([startNearLimit(50, 45, names.a), startNearLimit(200, 120, names.b), startNearLimit(100, 30, names.b)]);
});
test.after.always(async () => Promise.all([a, b, b2].map((f) => f?.stop())));

function metrics(args: string[]): Exposition {
  const result = runCli(['metrics', ...args]);
  if (result.code !== 0) throw new Error(`fdscan metrics ${args.join(' ')}: exit ${result.code}: ${result.stderr}`);
  return parseExposition(result.stdout);
}

linux('every value equals /proc: open, soft limit, inheritable and per type, labelled with the exact names', (t) => {
  for (const args of [[String(a.pid), String(b.pid)], ['-c', `^${prefix}`]]) {
    const parsed = metrics([...args, '--by-type']);
    t.true(parsed.eof, 'OpenMetrics ends with # EOF');
    for (const fixture of args[0] === '-c' ? [a, b, b2] : [a, b]) {
      const truth = procTruth(fixture.pid);
      const id = { pid: String(fixture.pid) };
      t.deepEqual(samplesOf(parsed, 'fdscan_process_open_fds', id).map((s) => s.labels), [{ pid: String(fixture.pid), command: truth.comm, user: fixtureOwner.username }]);
      t.is(valueOf(parsed, 'fdscan_process_open_fds', id), truth.open);
      t.is(valueOf(parsed, 'fdscan_process_open_fds', id), fixture.manifest.open);
      t.is(valueOf(parsed, 'fdscan_process_max_fds', id), truth.soft ?? Infinity);
      t.is(valueOf(parsed, 'fdscan_process_max_fds', id), fixture.manifest.soft);
      t.is(valueOf(parsed, 'fdscan_process_inheritable_fds', id), truth.inheritable);
      const byType = Object.fromEntries(samplesOf(parsed, 'fdscan_process_open_fds_by_type', id).map((s) => [s.labels.type, s.value]));
      t.deepEqual(byType, truth.byType);
      t.deepEqual(byType, fixture.manifest.byType);
    }
    t.is(procTruth(a.pid).comm, names.a, 'the hostile name really is the comm');
    t.is(valueOf(parsed, 'fdscan_processes_unreadable'), 0);
    t.is(valueOf(parsed, 'fdscan_processes_skipped'), 0);
    t.true(valueOf(parsed, 'fdscan_scrape_duration_seconds') > 0);
  }
});

linux('--per command: one series per command and user, sums and the worst usage', (t) => {
  const parsed = metrics(['-c', `^${prefix}b$`, '--per', 'command', '--by-type']);
  const id = { command: names.b, user: fixtureOwner.username };
  t.is(valueOf(parsed, 'fdscan_command_processes', id), 2);
  t.is(valueOf(parsed, 'fdscan_command_open_fds', id), b.manifest.open + b2.manifest.open);
  t.is(valueOf(parsed, 'fdscan_command_inheritable_fds', id), b.manifest.inheritable + b2.manifest.inheritable);
  t.is(valueOf(parsed, 'fdscan_command_worst_usage_ratio', id), Math.max(120 / 200, 30 / 100));
  t.is(valueOf(parsed, 'fdscan_command_open_fds_by_type', { ...id, type: 'SOCK' }), (b.manifest.byType.SOCK ?? 0) + (b2.manifest.byType.SOCK ?? 0));
  t.false(parsed.samples.some((s) => 'pid' in s.labels));
});

linux('--format prometheus: the 0.0.4 text, without # EOF; --no-inheritable leaves that family out', (t) => {
  const result = runCli(['metrics', String(a.pid), '--format', 'prometheus', '--no-inheritable']);
  t.is(result.code, 0, result.stderr);
  t.false(result.stdout.includes('# EOF'));
  const parsed = parseExposition(result.stdout);
  t.is(valueOf(parsed, 'fdscan_process_open_fds', { pid: String(a.pid) }), 45);
  t.deepEqual(samplesOf(parsed, 'fdscan_process_inheritable_fds'), []);
});

(hasStrace ? test.serial : test.skip)(`-o writes a temporary file in the same folder and renames it over FILE; a reader never sees half a file${hasStrace ? '' : ' (skipped: no strace)'}`, async (t) => {
  await withTempDir('fdscan-metrics', async (dir) => {
    const out = join(dir, 'fdscan.prom');
    const traced = spawnSync('strace', ['-f', '-qq', '-e', 'trace=openat,rename,renameat,renameat2', process.execPath, fdscanBin, 'metrics', String(a.pid), '-o', out], { encoding: 'utf8' });
    t.is(traced.status, 0, traced.stderr.slice(-2000));
    const temporary = /openat\(AT_FDCWD, "([^"]+)", O_WRONLY\|O_CREAT\|O_EXCL[^)]*\) = \d+/.exec(traced.stderr)?.[1];
    t.truthy(temporary, 'the temporary file is created exclusively');
    t.is(join(temporary!, '..'), dir, 'in the same folder');
    t.regex(traced.stderr, new RegExp(`rename(at2?)?\\((AT_FDCWD, )?"${temporary!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}", (AT_FDCWD, )?"${out}"`));
    t.deepEqual(readdirSync(dir), ['fdscan.prom'], 'no temporary file is left');
    t.is(valueOf(parseExposition(readFileSync(out, 'utf8')), 'fdscan_process_open_fds', { pid: String(a.pid) }), 45);

    // Eight writers in a row while this reads the file as fast as it can: every read is whole.
    const writers = Array.from({ length: 8 }, () => spawn(process.execPath, [fdscanBin, 'metrics', '-c', `^${prefix}`, '-o', out], { stdio: 'ignore' }));
    let running = writers.length;
    const done = Promise.all(writers.map((w) => new Promise((resolve) => w.once('exit', (code) => { running--; resolve(code); }))));
    let reads = 0;
    while (running > 0) {
      const text = readFileSync(out, 'utf8');
      t.true(text.endsWith('\n# EOF\n'), `read ${reads}: a whole file`);
      reads++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    t.deepEqual(await done, writers.map(() => 0));
    t.deepEqual(readdirSync(dir), ['fdscan.prom']);
    t.log(`${reads} reads while 8 writers replaced the file`);
  });
});

linux('-o where the file cannot be written: one line, exit 2, nothing left behind', async (t) => {
  await withTempDir('fdscan-metrics', (dir) => {
    mkdirSync(join(dir, 'taken'));
    for (const target of [join(dir, 'no-such-folder', 'fdscan.prom'), join(dir, 'taken')]) {
      const result = runCli(['metrics', String(a.pid), '-o', target]);
      t.is(result.code, 2, target);
      t.is(result.stdout, '');
      t.regex(result.stderr, /^fdscan: cannot write -o [^\n]+: (ENOENT|a directory)[^\n]*\n$/);
    }
    t.deepEqual(readdirSync(dir), ['taken']);
    t.false(existsSync(join(dir, 'no-such-folder')));
  });
});

(noOtherUser ? test.serial.skip : test.serial)(`as another user, root's processes are counted unreadable, with what any user may read of them${noOtherUser ? ` (skipped: ${noOtherUser})` : ''}`, (t) => {
  const user = createOtherUser();
  try {
    const one = user.fdscan(['metrics', String(a.pid), '--by-type']);
    t.is(one.code, 0, one.stderr);
    const parsed = parseExposition(one.stdout);
    const id = { pid: String(a.pid) };
    t.is(valueOf(parsed, 'fdscan_processes_unreadable'), 1);
    t.is(valueOf(parsed, 'fdscan_process_open_fds', id), 45, 'the count: the size of /proc/PID/fd');
    t.is(valueOf(parsed, 'fdscan_process_max_fds', id), 50, '/proc/PID/limits is readable by all');
    t.deepEqual(samplesOf(parsed, 'fdscan_process_inheritable_fds', id), []);
    t.deepEqual(samplesOf(parsed, 'fdscan_process_open_fds_by_type', id), []);
    const all = user.fdscan(['metrics']);
    t.is(all.code, 0, all.stderr);
    t.is(all.stderr, '');
    t.true(valueOf(parseExposition(all.stdout), 'fdscan_processes_unreadable') > 0);
  } finally {
    user.remove();
  }
});

/** Pids of kernel threads (PF_KTHREAD in the flags of /proc/PID/stat), read here without fdscan. */
function kernelThreadPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const flags = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]);
      if (flags & 0x200000) pids.push(Number(name));
    } catch { /* exited meanwhile */ }
  }
  return pids;
}

const kernelThreadsSeen = process.platform === 'linux' && kernelThreadPids().length > 0;
(kernelThreadsSeen ? test : test.skip)(`kernel threads are left out: no series for any of them, the test's own process still there${kernelThreadsSeen ? '' : ' (skipped: no kernel thread visible here)'}`, (t) => {
  const before = new Set(kernelThreadPids());
  const exposition = metrics(['--all']);
  const after = new Set(kernelThreadPids());
  const pids = new Set(samplesOf(exposition, 'fdscan_process_open_fds').map((s) => Number(s.labels.pid)));
  t.true(pids.has(process.pid));
  // Kernel threads alive during the whole reading (a kworker may come and go meanwhile).
  const throughout = [...before].filter((pid) => after.has(pid));
  t.true(throughout.length > 0);
  t.deepEqual(throughout.filter((pid) => pids.has(pid)), []);
  const asked = throughout.includes(2) ? 2 : throughout[0]!;
  t.deepEqual(samplesOf(metrics([String(asked)]), 'fdscan_process_open_fds'), [], `kernel thread ${asked}, asked for by pid`);
});
