/** `fdscan top` on fixtures that lowered their own descriptor limit: ranking, fields, refreshes, bad usage. */
import test from 'ava';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { runCli } from '../helpers/cli.js';
import { fdscanBin, fixtureOwner, type RunningFixture } from '../helpers/fixture.js';
import { startNearLimit, type NearLimit } from '../helpers/near-limit.js';
import { procTruth } from '../helpers/proc-truth.js';
import { createOtherUser, otherUserUnavailable } from '../helpers/other-user.js';

const linux = process.platform === 'linux' ? test.serial : test.skip;
const noOtherUser = otherUserUnavailable();
const prefix = `fdt${randomBytes(2).toString('hex')}`;
/** B's name holds a quote, a backslash, a newline and an escape: it must never reach the terminal raw. */
const names = { a: `${prefix}a`, b: `${prefix}b"\\\n\x1b[2J`, c: `${prefix}c` };
let a: RunningFixture<NearLimit>;
let b: RunningFixture<NearLimit>;
let c: RunningFixture<NearLimit>;

test.before(async () => {
  if (process.platform !== 'linux') return;
  // a: 45 of 50 (90%); b: 45 of 100 (45%); c: 120 of 1000 (12%), the most descriptors.
  [a, b, c] = await Promise.all([startNearLimit(50, 45, names.a), startNearLimit(100, 45, names.b), startNearLimit(1000, 120, names.c)]);
});
test.after.always(async () => Promise.all([a, b, c].map((f) => f?.stop())));

interface TopDocument {
  schema: string;
  processes: Array<{ pid: number; command: string; user?: string; uid?: number; open: number; inheritable?: number;
    limits?: { soft: number | null; hard: number | null }; usage?: number; growth?: number }>;
  counted: number;
  unreadable: number;
}

function top(args: string[]): TopDocument {
  const result = runCli(['top', ...args, '--json']);
  if (result.code !== 0) throw new Error(`fdscan top ${args.join(' ')}: exit ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as TopDocument;
}

linux('over every process, the fixture holding 45 of 50 is ranked first: only processes at least as close to their limit come before it', (t) => {
  const doc = top(['-n', '0']);
  t.is(doc.schema, 'fdscan/top@1');
  const rank = doc.processes.findIndex((p) => p.pid === a.pid);
  t.not(rank, -1);
  const above = doc.processes.slice(0, rank);
  t.log(`rank ${rank + 1} of ${doc.processes.length}${above.length ? `; above it: ${above.map((p) => `${p.pid} ${p.command} ${p.usage}`).join(', ')}` : ''}`);
  t.true(above.every((p) => p.usage !== undefined && p.usage >= 0.9), 'only processes at 90% or more rank above it');
  // The whole list is ranked by usage, processes whose limit is unknown last.
  const usages = doc.processes.map((p) => p.usage ?? -1);
  t.deepEqual(usages, [...usages].sort((x, y) => y - x));
  t.is(doc.counted, doc.processes.length);
});

linux('the fixture\'s row: pid, command, user, open, inheritable, limits and usage equal /proc and the process', (t) => {
  const doc = top(['-c', `^${prefix}`, '-n', '1']);
  t.is(doc.processes.length, 1);
  const truth = procTruth(a.pid);
  t.deepEqual(doc.processes[0], {
    pid: a.pid, command: names.a, user: fixtureOwner.username, uid: fixtureOwner.uid, open: 45, inheritable: a.manifest.inheritable,
    limits: { soft: 50, hard: a.manifest.hard }, usage: 0.9,
  });
  t.deepEqual([truth.open, truth.inheritable, truth.soft, truth.hard, truth.comm], [45, a.manifest.inheritable, 50, a.manifest.hard, names.a]);
});

linux('--sort usage, count and inheritable rank the selected fixtures in that order', (t) => {
  const pids = (args: string[]): number[] => top(['-c', `^${prefix}`, ...args]).processes.map((p) => p.pid);
  t.deepEqual(pids([]), [a.pid, b.pid, c.pid]);
  t.deepEqual(pids(['--sort', 'usage']), [a.pid, b.pid, c.pid]);
  // a and b hold 45 each: the tie goes to the lower pid.
  t.deepEqual(pids(['--sort', 'count']), [c.pid, ...[a.pid, b.pid].sort((x, y) => x - y)]);
  const byInheritable = [a, b, c].sort((x, y) => y.manifest.inheritable - x.manifest.inheritable || y.manifest.open - x.manifest.open || x.pid - y.pid);
  t.deepEqual(pids(['--sort', 'inheritable']), byInheritable.map((f) => f.pid));
  t.deepEqual(pids([String(b.pid), String(c.pid)]), [b.pid, c.pid], 'pids select too');
});

linux('the table: one line per process, usage in percent, names escaped', (t) => {
  const result = runCli(['top', '-c', `^${prefix}`]);
  t.is(result.code, 0, result.stderr);
  t.false(result.stdout.includes('\x1b'), 'no raw escape character');
  const lines = result.stdout.trimEnd().split('\n');
  t.is(lines.length, 5);
  t.regex(lines[0]!, /^fdscan top: 3 processes counted; ranked by usage of the soft limit$/);
  t.deepEqual(lines[1]!.trim().split(/\s+/), ['PID', 'USER', 'COMMAND', 'OPEN', 'LIMIT', 'USAGE', 'INHERIT']);
  t.deepEqual(lines[2]!.trim().split(/\s+/), [String(a.pid), fixtureOwner.username, names.a, '45', '50', '90.0%', String(a.manifest.inheritable)]);
  t.true(lines[3]!.includes(`${prefix}b"\\\\\\n\\x1b[2J`), lines[3]);
  t.regex(lines[3]!, /\s45\s+100\s+45\.0%\s/);
});

linux('--interval: each reading shows each process\'s growth since the one before; Ctrl-C ends it with exit 0', async (t) => {
  const grower = await startNearLimit(200, 10, `${prefix}g`, 50);
  try {
    const result = runCli(['top', String(grower.pid), '--interval', '400ms', '--count', '3', '--json']);
    t.is(result.code, 0, result.stderr);
    const readings = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as TopDocument);
    t.is(readings.length, 3);
    const rows = readings.map((r) => r.processes[0]!);
    t.is(rows[0]!.growth, undefined, 'nothing to compare the first reading with');
    for (let i = 1; i < rows.length; i++) t.is(rows[i]!.growth, rows[i]!.open - rows[i - 1]!.open);
    t.true(rows[2]!.open > rows[0]!.open, `it opens a descriptor every 50 ms: ${rows.map((r) => r.open).join(' ')}`);

    // As text, until Ctrl-C: the GROWTH column, readings one after the other.
    const child = spawn(process.execPath, [fdscanBin, 'top', String(grower.pid), '--interval', '200ms'], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk; });
    const lines = createInterface({ input: child.stdout });
    let frames = 0;
    await new Promise<void>((resolve) => lines.on('line', (line) => { if (line.startsWith('fdscan top:') && ++frames === 2) resolve(); }));
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.once('exit', (status) => resolve(status)));
    t.is(code, 0);
    t.regex(stdout, /PID\s+USER\s+COMMAND\s+OPEN\s+LIMIT\s+USAGE\s+INHERIT\s+GROWTH/);
    t.regex(stdout, new RegExp(`^\\s*${grower.pid}\\s.*\\s(new|[+-]?\\d+)$`, 'm'));
    t.regex(stdout, new RegExp(`^\\s*${grower.pid}\\s.*\\s(\\+\\d+|0)$`, 'm'), 'the second reading has a growth');
  } finally {
    await grower.stop();
  }
});

(noOtherUser ? test.serial.skip : test.serial)(`as another user, root's processes are ranked by what any user may read; their inheritability is unknown, not fatal${noOtherUser ? ` (skipped: ${noOtherUser})` : ''}`, (t) => {
  const user = createOtherUser();
  try {
    const result = user.fdscan(['top', '-n', '0', '--json']);
    t.is(result.code, 0, result.stderr);
    t.is(result.stderr, '');
    const doc = JSON.parse(result.stdout) as TopDocument;
    const row = doc.processes.find((p) => p.pid === a.pid);
    if (row) {
      // Linux 6.2+: the size of /proc/PID/fd (the count) and /proc/PID/limits are readable by all.
      t.deepEqual(row, { pid: a.pid, command: names.a, user: 'root', uid: 0, open: 45, limits: { soft: 50, hard: a.manifest.hard }, usage: 0.9 });
      const above = doc.processes.slice(0, doc.processes.indexOf(row));
      t.true(above.every((p) => p.usage !== undefined && p.usage >= 0.9), 'still first but for processes as close to their limit');
    } else {
      // Older kernels: the count needs the descriptors' directory, which only root and the owner read.
      t.true(doc.unreadable > 0);
    }
  } finally {
    user.remove();
  }
});

test('bad usage: one line, exit 2', (t) => {
  for (const args of [['--sort', 'bogus'], ['--count', '2'], ['-n', '-1'], ['-n', '1.5'], ['--interval', 'soon'], ['-c', '('], ['--interval', '1s', '--count', '0']]) {
    const result = runCli(['top', ...args]);
    t.is(result.code, 2, args.join(' '));
    t.is(result.stdout, '');
    t.regex(result.stderr, /^fdscan: [^\n]+\n$/, args.join(' '));
  }
});
