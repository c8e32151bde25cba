/**
 * The examples of the README and docs/ are what fdscan prints (where they are:
 * test/helpers/doc-examples.ts). The quick start's commands run in bash, in order,
 * with `fdscan` on PATH and only stdin, stdout and stderr open (as in a terminal), and print what
 * the README shows, pids and the temporary folder's name aside; so does the make transcript of
 * docs/gate.md. The `watch` example's lines have
 * the form of a real watch's (numbers, paths and the command line aside), in order. (The
 * Prometheus examples of docs/serve.md: test/metrics/readme-rules.test.ts.) The `metrics` example and the php-fpm
 * row of the `top` example are what fdscan prints of a process named php-fpm8.2 holding 45
 * descriptors under a soft limit of 50, its pid aside. The `inherit-diff` example is what it
 * prints, pids and the pipe's inode aside, when fdscan starts with a pipe on fd 251 (the ambient
 * descriptor the example shows) and nothing else beyond 0, 1, 2. The audit example's rows from fd 3
 * up are what fdscan prints of test/fixtures/hold-descriptors.py started with only 0, 1, 2 (numbers
 * and its folder aside). Each example is checked in every place it is shown (the README and its
 * command's page).
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { TESTED_EXAMPLES, blockAfter as placeBlock, type DocPlace } from './helpers/doc-examples.js';
import { fdscanBin, startFixture } from './helpers/fixture.js';
import { startNearLimit } from './helpers/near-limit.js';
import { withTempDir } from './helpers/temp-dir.js';

const linux = process.platform === 'linux' ? test : test.skip;

/** The text of the first ``` block after the heading of `place`. */
const blockAfter = (place: DocPlace): string => placeBlock(place).text;

/** A transcript's commands (`$ ` lines) and what each printed (the lines up to the next command). */
function transcript(text: string): Array<{ command: string; output: string }> {
  const steps: Array<{ command: string; output: string }> = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('$ ')) steps.push({ command: line.slice(2), output: '' });
    else if (line !== '' || steps.at(-1)?.output) steps.at(-1)!.output += `${line}\n`;
  }
  return steps.map((s) => ({ ...s, output: s.output.replace(/\n+$/, '\n').replace(/^\n$/, '') }));
}

/** Pids, pipes' inodes and mktemp's folder names, which differ from run to run. */
const normalised = (text: string): string => text.replace(/\(pid \d+\)/g, '(pid N)').replace(/\/tmp\/tmp\.[A-Za-z0-9]+/g, '/tmp/tmp.X').replace(/pipe:\[\d+\]/g, 'pipe:[N]');

for (const place of TESTED_EXAMPLES.transcripts) linux(`the transcript after ${place.heading} in ${place.file}: its commands print what it shows (pids, pipes and the temporary folder aside)`, (t) => {
  const steps = transcript(blockAfter(place));
  t.true(steps.length >= 3, JSON.stringify(steps));
  withTempDir('fdscan-quick-start', (dir) => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(fdscanBin, join(bin, 'fdscan'));
    const marker = (i: number) => `__fdscan_step_${i}__`;
    // One shell for all, as a user types them (a `cd` holds for the next command); stderr with
    // stdout, as a terminal shows them.
    // Each marker line keeps $? for the command after it (`echo $?`).
    const script = steps.map((s, i) => `status=$?; printf '%s\\n' '${marker(i)}'; (exit $status)\n${s.command}`).join('\n');
    // Only 0, 1 and 2 open, as in a terminal: the test runner's own strays would be listed as ambient.
    const run = spawnSync('python3', ['-c', 'import os, sys; os.closerange(3, 65536); os.execvp("bash", ["bash", "--noprofile", "--norc", "-c", sys.argv[1]])', `exec 2>&1\n${script}`], {
      cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, TMPDIR: '/tmp', NO_COLOR: '1', COLUMNS: undefined },
    });
    t.is(run.status, 0, run.stdout + run.stderr);
    const printed = run.stdout.split(new RegExp(`${marker(0).replace('0', '\\d+')}\\n`)).slice(1);
    t.is(printed.length, steps.length, run.stdout);
    steps.forEach((step, i) => t.is(normalised(printed[i]!), normalised(step.output), `$ ${step.command}`));
  });
});

/** A line's form: numbers, paths and the watched command line made placeholders. */
const form = (line: string, argv: RegExp): string => line.replace(argv, 'ARGV').replace(/\/\S+/g, 'PATH').replace(/\d+(\.\d+)?/g, 'N');

for (const place of TESTED_EXAMPLES.watch) linux(`the watch example of ${place.file}: each of its lines has the form of a line a real watch printed, in that order`, async (t) => {
  const example = transcript(blockAfter(place));
  t.is(example.length, 1);
  const { command, output } = example[0]!;
  const args = command.split(' ').slice(1);
  t.deepEqual(args.slice(0, 1).concat(args.slice(2)), ['watch', '--interval', '200ms']);
  // The fixture opens a file every 100 ms and, told to, execs itself with `reloaded` appended.
  const fixture = await startFixture<{ pid: number }>('open-file-every-100ms.py');
  const watch = spawn(process.execPath, [fdscanBin, 'watch', String(fixture.pid), ...args.slice(2)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NO_COLOR: '1' } });
  try {
    const exited = new Promise<number | null>((resolve) => watch.once('exit', resolve));
    let printed = '';
    createInterface({ input: watch.stdout }).on('line', (line) => {
      printed += `${line}\n`;
      if (/^sample 3 /.test(line)) fixture.child.stdin!.write('exec\n');
      if (/; exec: /.test(line)) watch.kill('SIGINT');
    });
    t.is(await exited, 0);
    const argv = /^sample 0 [^(]*\((.*)\)$/m.exec(printed)![1]!;
    const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const real = printed.split('\n').map((line) => form(line, new RegExp(escaped(argv), 'g')));
    const shown = output.split('\n').filter((line) => line !== '' && line.trim() !== '...' && line !== '^C').map((line) => form(line, /python3 server\.py/g));
    let at = 0;
    for (const line of shown) {
      const found = real.indexOf(line, at);
      t.not(found, -1, `${place.file}: ${JSON.stringify(line)} is not the form of a line fdscan printed (after line ${at}):\n${real.join('\n')}`);
      if (found !== -1) at = found + 1;
    }
  } finally {
    watch.kill('SIGKILL');
    await fixture.stop();
  }
});

/** `command` (a README line without its `$ `) run by bash with this checkout's fdscan on PATH. */
function runShown(command: string, dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  symlinkSync(fdscanBin, join(bin, 'fdscan'));
  const run = spawnSync('bash', ['--noprofile', '--norc', '-c', command], { cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1', COLUMNS: undefined } });
  if (run.status !== 0) throw new Error(`${command}: exit ${run.status}: ${run.stderr}`);
  return run.stdout;
}

for (const [i, metricsPlace] of TESTED_EXAMPLES.metrics.entries()) linux(`the metrics example of ${metricsPlace.file} and the php-fpm row of the top example of ${TESTED_EXAMPLES.top[i]!.file} are what fdscan prints of such a process (its pid aside)`, async (t) => {
  // Only 0-2 to begin with: its inheritable count (every other one it opens) is then the README's on
  // any machine, whatever strays the test runner handed down (a CI runner without this machine's
  // pipe on 251 counted 24).
  const fixture = await startNearLimit(50, 45, 'php-fpm8.2', undefined, { onlyStdio: true });
  try {
    // The pid, and the user running the tests (the README shows root's).
    const pid = (text: string) => text.replaceAll(`pid="${fixture.pid}"`, 'pid="N"').replace(/pid="8298"/g, 'pid="N"').replace(/user="[^"]*"/g, 'user="U"');
    const [metrics] = transcript(blockAfter(metricsPlace));
    t.is(metrics!.command, "fdscan metrics -c '^php-fpm'");
    const printed = withTempDir('fdscan-readme-metrics', (dir) => pid(runShown(metrics!.command, dir))).split('\n');
    let at = 0;
    for (const line of pid(metrics!.output).split('\n').filter((l) => l !== '' && l !== '...')) {
      // Other php-fpm processes of the machine may add lines between; the README's come in its order.
      const found = printed.indexOf(line, at);
      t.not(found, -1, `${metricsPlace.file}: ${JSON.stringify(line)} not printed (after line ${at}):\n${printed.join('\n')}`);
      if (found !== -1) at = found + 1;
    }
    const [top] = transcript(blockAfter(TESTED_EXAMPLES.top[i]!));
    // The pid, and the user column (the README shows root; the tests may run as anyone).
    const squeeze = (line: string) => line.trim().replace(/ +/g, ' ').replace(/^\d+ \S+ /, 'N U ');
    const shownRow = top!.output.split('\n').find((line) => line.includes('php-fpm8.2'))!;
    const row = withTempDir('fdscan-readme-top', (dir) => runShown(`fdscan top -n 0 ${fixture.pid}`, dir)).split('\n').find((line) => line.includes('php-fpm8.2'));
    t.is(squeeze(row ?? ''), squeeze(shownRow));
  } finally {
    await fixture.stop();
  }
});

for (const place of TESTED_EXAMPLES.inheritDiff) linux(`the inherit-diff example of ${place.file}: what fdscan prints when it received a pipe on fd 251 (pids and the pipe's inode aside)`, (t) => {
  const [example] = transcript(blockAfter(place));
  t.regex(example!.command, /^fdscan inherit-diff -- /);
  withTempDir('fdscan-readme-inherit-diff', (dir) => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(fdscanBin, join(bin, 'fdscan'));
    // Only 0, 1, 2 and an inheritable pipe on 251, then the README's command, run by bash.
    const setUp = 'import os, sys; os.closerange(3, 65536); r, w = os.pipe(); os.dup2(w, 251); os.set_inheritable(251, True); os.close(w); os.execvp("bash", ["bash", "--noprofile", "--norc", "-c", sys.argv[1]])';
    const run = spawnSync('python3', ['-c', setUp, `exec 2>&1; ${example!.command}`], { cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1', COLUMNS: undefined } });
    t.is(run.status, 0, run.stdout + run.stderr);
    const aside = (text: string) => text.replace(/\bpid \d+/g, 'pid N').replace(/\bof \d+/g, 'of N').replace(/pipe:\[\d+\]/g, 'pipe:[N]');
    t.is(aside(run.stdout), aside(example!.output));
  });
});

/** An audit table's rows by fd (a wrapped target joined again), numbers and `dir` made placeholders. */
function auditRows(table: string, dir: RegExp): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  let last: string[] | undefined;
  for (const line of table.split('\n')) {
    if (!line.startsWith('│')) continue;
    const cells = line.split('│').slice(1, -1).map((cell) => cell.trim());
    if (cells[0] === '') last![5] = `${last![5]} ${cells[5]}`;
    else rows.set(cells[0]!, last = cells);
  }
  for (const cells of rows.values()) cells[5] = cells[5]!.replace(dir, 'DIR').replace(/\d+/g, 'N');
  return rows;
}

/** The first lines of an audit (the process, the count) with numbers and paths made placeholders. */
const auditHead = (text: string): string[] => text.split('\n').slice(0, 2).map((line) => line.replace(/\S*\/\S*/g, 'PATH').replace(/\d+/g, 'N'));

linux('the audit example of docs/audit.md: the rows fdscan prints of the fixture it shows, from fd 3 up (numbers and its folder aside)', async (t) => {
  const [example] = transcript(blockAfter(TESTED_EXAMPLES.audit[0]!));
  t.regex(example!.command, /^fdscan \d+$/);
  const fixture = await startFixture<{ pid: number }>('hold-descriptors.py', [], { onlyStdio: true });
  try {
    const printed = withTempDir('fdscan-readme-audit', () => spawnSync(process.execPath, [fdscanBin, String(fixture.pid)], {
      encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', COLUMNS: '110' },
    }).stdout);
    t.deepEqual(auditHead(printed), auditHead(example!.output));
    const escaped = fixture.workdir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const real = auditRows(printed, new RegExp(escaped, 'g'));
    const shown = auditRows(example!.output, /\/tmp\/fdscan-test-[A-Za-z0-9]+/g);
    t.deepEqual(real.get('FD'), shown.get('FD'));
    const fromThree = (rows: Map<string, string[]>) => [...rows].filter(([fd]) => /^\d+$/.test(fd) && Number(fd) >= 3);
    t.true(fromThree(shown).length >= 18);
    t.deepEqual(fromThree(real), fromThree(shown));
  } finally {
    await fixture.stop();
  }
});
