/** The audit command as a user runs it: the real binary, normalised output compared to snapshots. */
import test from 'ava';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { startFixture, type ManifestEntry, type RunningFixture } from '../helpers/fixture.js';

const linux = process.platform === 'linux';
let fixture: RunningFixture<{ pid: number; opened: ManifestEntry[] }>;
test.before(async () => {
  if (linux) fixture = await startFixture('hold-descriptors.py');
});
test.after.always(async () => fixture?.stop());

/** Replace what differs from run to run: pid, work dir, inodes, ports, the argv line. */
function normalise(text: string): string {
  return text
    .replaceAll(fixture.workdir, '<work>')
    .replaceAll(String(fixture.pid), '<pid>')
    .replace(/(pipe|socket):\[\d+\]/g, '$1:[<ino>]')
    .replace(/->\[\d+\]/g, '->[<ino>]')
    .replace(/((?:\d{1,3}\.){3}\d{1,3}|\]):\d+/g, '$1:<port>');
}

const linuxTest = linux ? test.serial : test.skip;

linuxTest('table: the fixture descriptors, one row each, inheritable ones marked', (t) => {
  const result = runCli([String(fixture.pid), '--no-peers']);
  t.is(result.code, 0, result.stderr);
  t.is(result.stderr, '');
  const lines = result.stdout.split('\n');
  // Keep the header and the rows of descriptors the fixture opened (not what it inherited), cells
  // trimmed and the fd replaced by its place in the manifest: numbers shift with inherited fds.
  const rows: string[] = [];
  for (const line of lines) {
    const cells = line.split('│').slice(1, -1).map((c) => c.trim());
    if (cells[0] === 'FD') rows.push(cells.join(' | '));
    const place = fixture.manifest.opened.findIndex((o) => String(o.fd) === cells[0]);
    if (place !== -1) rows.push([`#${place}`, ...cells.slice(1)].join(' | '));
  }
  t.is(rows.length, fixture.manifest.opened.length + 1);
  t.snapshot(normalise(rows.join('\n')));
  t.regex(lines[0]!, new RegExp(`^pid ${fixture.pid} python3 `));
});

linuxTest('--json: schema, process fields and the opened descriptors', (t) => {
  const result = runCli([String(fixture.pid), '--json', '--no-peers']);
  t.is(result.code, 0, result.stderr);
  const document = JSON.parse(result.stdout);
  t.is(document.schema, 'fdscan/audit@1');
  t.is(document.pid, fixture.pid);
  t.is(document.platform, 'linux');
  t.deepEqual(document.errors, []);
  const places = new Map(fixture.manifest.opened.map((o, i) => [o.fd, `#${i}`]));
  const rows = document.fds
    .filter((d: { fd: number }) => places.has(d.fd))
    .map(({ fd, device, inode, rdev, ...rest }: Record<string, unknown>) =>
      ({ ...rest, fd: places.get(fd as number), device: typeof device, inode: typeof inode, rdev: typeof rdev }));
  t.is(rows.length, fixture.manifest.opened.length);
  t.snapshot(JSON.parse(normalise(JSON.stringify(rows))));
});

linuxTest('--type and --inheritable filter rows; the pid may follow the option', (t) => {
  const result = runCli(['-t', 'REG,DIR', String(fixture.pid), '--inheritable', '--json', '--no-peers']);
  t.is(result.code, 0, result.stderr);
  const fds = JSON.parse(result.stdout).fds as Array<{ fd: number; type: string; inheritable: boolean }>;
  t.true(fds.every((d) => (d.type === 'REG' || d.type === 'DIR') && d.inheritable));
  // Of the fixture's own descriptors, exactly the inheritable files and folders its manifest names.
  const opened = new Set(fixture.manifest.opened.map((o) => o.fd));
  const expected = fixture.manifest.opened.filter((o) => (o.type === 'REG' || o.type === 'DIR') && o.inheritable).map((o) => o.fd);
  t.true(expected.length >= 2, 'the fixture holds inheritable files');
  t.deepEqual(fds.filter((d) => opened.has(d.fd)).map((d) => d.fd), expected.sort((a, b) => a - b));
});

linuxTest('several pids: one report each; one bad pid fails the run with exit 2', (t) => {
  const both = runCli([String(fixture.pid), String(process.pid), '--json', '--no-peers']);
  t.is(both.code, 0, both.stderr);
  const set = JSON.parse(both.stdout);
  t.is(set.schema, 'fdscan/audit-set@1');
  t.deepEqual(set.processes.map((p: { pid: number }) => p.pid), [fixture.pid, process.pid]);
  const partly = runCli([String(fixture.pid), '2147483647', '--no-peers']);
  t.is(partly.code, 2);
  t.regex(partly.stdout, /^pid \d+ python3/);
  t.is(partly.stderr, 'fdscan: no process with pid 2147483647\n');
});

/** A FIFO at `path` (Node has no mkfifo): nobody ever opens it to write. */
function makeFifo(path: string): void {
  const made = spawnSync('mkfifo', [path]);
  if (made.status !== 0) throw new Error(`mkfifo ${path}: ${made.stderr}`);
}

test('bad input: one clear line and exit 2', (t) => withTempDir('fdscan-bad-input', (dir) => {
  const posix = process.platform !== 'win32';
  const fifo = join(dir, 'fifo');
  const big = join(dir, 'big.json');
  const configFifoDir = join(dir, 'cwd');
  if (posix) {
    makeFifo(fifo);
    mkdirSync(configFifoDir);
    makeFifo(join(configFifoDir, 'fdscan.config.json'));
  }
  // 20 MiB, sparse: above the 16 MiB an input file may hold.
  writeFileSync(big, '');
  truncateSync(big, 20 * 1024 * 1024);
  const pid = String(process.pid);
  const notRegular = (option: string, path: string, kind: string): RegExp =>
    new RegExp(`^fdscan: ${option} ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${kind} \\(fdscan reads regular files of up to 16 MiB\\) \\(see fdscan --help\\)\n$`);
  const cases: Array<[string[], RegExp, SpawnSyncOptions?]> = [
    [['abc'], /^fdscan: not a process id: 'abc' \(expected a positive number such as 1234\) \(see fdscan --help\)\n$/],
    [['-5'], /^fdscan: /],
    [['--all', '1'], /^fdscan: give pids or --all, not both \(see fdscan --help\)\n/],
    [['--bogus'], /^fdscan: Unknown argument: bogus \(see fdscan --help\)\n/],
    // An option given without its value is bad usage, never an internal error, nor ignored.
    [['--type'], /^fdscan: --type needs a value \(see fdscan --help\)\n$/],
    [['top', '-n'], /^fdscan: -n needs a value \(see fdscan --help\)\n/],
    [['watch', pid, '--interval'], /^fdscan: --interval needs a value \(see fdscan --help\)\n/],
    [['watch', pid, '--count'], /^fdscan: --count needs a value \(see fdscan --help\)\n/],
    [['gate', '--baseline', '--', 'true'], /^fdscan: --baseline needs a value \(see fdscan --help\)\n/],
    [['gate', '--allow', '--', 'true'], /^fdscan: --allow needs a value \(see fdscan --help\)\n/],
    [['gate', '-o', '--', 'true'], /^fdscan: -o needs a value \(see fdscan --help\)\n/],
    // In the caller's language yargs would say it otherwise: fdscan's words (yargs' updateStrings), and English throughout.
    [['gate', '-o', '--', 'true'], /^fdscan: -o needs a value \(see fdscan --help\)\n/, { env: { ...process.env, LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8' } }],
    [['--bogus'], /^fdscan: Unknown argument: bogus \(see fdscan --help\)\n/, { env: { ...process.env, LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8' } }],
    [['gate', '--junit', '--', 'true'], /^fdscan: --junit needs a value \(see fdscan --help\)\n/],
    [['gate', '--config', '--', 'true'], /^fdscan: --config needs a value \(see fdscan --help\)\n/],
    [['inherit-diff', '-o', '--', 'true'], /^fdscan: -o needs a value \(see fdscan --help\)\n/],
    [['run', '--keep', '--', 'true'], /^fdscan: --keep needs a value \(see fdscan --help\)\n/],
    [['lifecycle', '--input', '--', 'true'], /^fdscan: --input needs a value \(see fdscan --help\)\n/],
    // An empty value names no file, user or pattern: refused, never silently ignored.
    [['gate', '-o', '', '--', 'true'], /^fdscan: --output\/-o needs a value, not '' \(see fdscan --help\)\n$/],
    [['gate', '--junit', '', '--', 'true'], /^fdscan: --junit needs a value, not '' \(see fdscan --help\)\n/],
    [['gate', '--config', '', '--', 'true'], /^fdscan: --config needs a value, not '' \(see fdscan --help\)\n/],
    [['gate', '--baseline', '', '--', 'true'], /^fdscan: --baseline needs a value, not '' \(see fdscan --help\)\n/],
    [['gate', '--allow', '', '--', 'true'], /^fdscan: --allow needs a value, not '' \(see fdscan --help\)\n/],
    [['inherit-diff', '-o', '', '--', 'true'], /^fdscan: --output\/-o needs a value, not '' \(see fdscan --help\)\n/],
    [['metrics', '-o', ''], /^fdscan: --output\/-o needs a value, not '' \(see fdscan --help\)\n/],
    [['run', '--close-fds', '--keep', '', '--', 'true'], /^fdscan: --keep needs a value, not '' \(see fdscan --help\)\n/],
    [['-u', ''], /^fdscan: --user\/-u needs a value, not '' \(see fdscan --help\)\n/],
    // Given twice, an option that takes one value is refused (a repeated -o or --junit had been exit 70).
    [['gate', '-o', 'a', '-o', 'b', '--', 'true'], /^fdscan: --output\/-o was given 2 times: it takes one value \(see fdscan --help\)\n$/],
    [['gate', '--junit', 'a', '--junit', 'b', '--', 'true'], /^fdscan: --junit was given 2 times/],
    [['gate', '--config', 'a', '--config', 'b', '--', 'true'], /^fdscan: --config was given 2 times/],
    [['gate', '--baseline', 'a', '--baseline', 'b', '--', 'true'], /^fdscan: --baseline was given 2 times/],
    [['inherit-diff', '-o', 'a', '--output', 'b', '--', 'true'], /^fdscan: --output\/-o was given 2 times/],
    [['lifecycle', '--input', 'a', '--input', 'b', '--', 'cat'], /^fdscan: --input was given 2 times/],
    [['watch', pid, '--interval', '1s', '--interval', '2s'], /^fdscan: --interval was given 2 times/],
    [['watch', pid, '--count', '1', '--count', '2'], /^fdscan: --count was given 2 times/],
    [['top', '-n', '1', '-n', '2'], /^fdscan: --limit\/-n was given 2 times/],
    [['top', '--sort', 'count', '--sort', 'usage'], /^fdscan: --sort was given 2 times/],
    [['top', '--interval', '1s', '--interval', '1s', '--count', '1'], /^fdscan: --interval was given 2 times/],
    [['top', '-c', 'a', '-c', 'b'], /^fdscan: --command\/-c was given 2 times: use one expression with \| for several/],
    [['-u', 'root', '-u', 'root'], /^fdscan: --user\/-u was given 2 times: fdscan selects one user at a time \(see fdscan --help\)\n$/],
    [['metrics', '-o', 'a', '-o', 'b'], /^fdscan: --output\/-o was given 2 times/],
    [['metrics', '--format', 'prometheus', '--format', 'openmetrics'], /^fdscan: --format was given 2 times/],
    [['metrics', '--per', 'pid', '--per', 'pid'], /^fdscan: --per was given 2 times/],
    [['serve', '--listen', '127.0.0.1:0', '--listen', '127.0.0.1:0'], /^fdscan: --listen was given 2 times/],
    [['serve', '--time-limit', '1s', '--time-limit', '1s'], /^fdscan: --time-limit was given 2 times/],
    [['serve', '--concurrency', '1', '--concurrency', '2'], /^fdscan: --concurrency was given 2 times/],
    // The command after -- must have a name.
    [['run', '--', ''], /^fdscan: the command after -- is empty: '' names no program \(see fdscan --help\)\n$/],
    [['gate', '--', ''], /^fdscan: the command after -- is empty/],
    [['lifecycle', '--', ''], /^fdscan: the command after -- is empty/],
    // Longer than Node's timers hold (they would fire after 1 ms): refused, naming the maximum.
    [['watch', pid, '--interval', '2147484s'], /^fdscan: --interval 2147484s is too long: at most 2147483647ms \(about 24 days\) \(see fdscan --help\)\n$/],
    [['top', '--interval', '2147483648ms'], /^fdscan: --interval 2147483648ms is too long: at most 2147483647ms/],
    [['serve', '--listen', '127.0.0.1:0', '--time-limit', '35792m'], /^fdscan: --time-limit 35792m is too long: at most 2147483647ms/],
    // yargs' several-line messages arrive as one line, without a literal \n.
    [['top', '--sort', 'bogus'], /^fdscan: Invalid values: Argument: sort, Given: "bogus", Choices: "usage", "count", "inheritable" \(see fdscan --help\)\n$/],
    // Input files: only regular ones, up to 16 MiB; a FIFO nobody writes, /dev/zero, a folder or a
    // huge file is one line at once (they had hung, or grown to gigabytes before failing).
    [['gate', '--config', big, '--', 'true'], notRegular('--config', big, '20.0 MiB, too large')],
    [['gate', '--baseline', big, '--', 'true'], notRegular('--baseline', big, '20.0 MiB, too large')],
    [['gate', '--config', dir, '--', 'true'], notRegular('--config', dir, 'a directory')],
    [['gate', '--baseline', dir, '--', 'true'], notRegular('--baseline', dir, 'a directory')],
    ...(posix ? [
      [['gate', '--config', fifo, '--', 'true'], notRegular('--config', fifo, 'a FIFO')],
      [['gate', '--baseline', fifo, '--', 'true'], notRegular('--baseline', fifo, 'a FIFO')],
      [['gate', '--', 'true'], notRegular('config', join(configFifoDir, 'fdscan.config.json'), 'a FIFO'), { cwd: configFifoDir }],
    ] as Array<[string[], RegExp, SpawnSyncOptions?]> : []),
    ...(existsSync('/dev/zero') ? [
      [['gate', '--config', '/dev/zero', '--', 'true'], notRegular('--config', '/dev/zero', 'a character device')],
      [['gate', '--baseline', '/dev/zero', '--', 'true'], notRegular('--baseline', '/dev/zero', 'a character device')],
    ] as Array<[string[], RegExp, SpawnSyncOptions?]> : []),
  ];
  for (const [args, expected, options] of cases) {
    const label = `fdscan ${args.map((a) => (a === '' ? "''" : a)).join(' ')}`;
    // A hang shows as a kill after a minute (code null), never as a timing assertion.
    const result = runCli(args, { timeout: 60_000, ...options });
    t.is(result.code, 2, label);
    t.regex(result.stderr, expected, label);
    t.regex(result.stderr, /^fdscan: [^\n]+\n$/, `${label}: one line`);
    t.false(/\n\s+at /.test(result.stderr), 'no stack trace');
  }
}));

linuxTest('pids after -- are operands as before it: fdscan -- PID audits PID, not the shell; top, watch and metrics likewise', (t) => {
  const pid = String(fixture.pid);
  const audit = runCli(['--json', '--no-peers', '--', pid]);
  t.is(audit.code, 0, audit.stderr);
  t.is(JSON.parse(audit.stdout).pid, fixture.pid);
  const both = runCli(['--json', '--no-peers', String(process.pid), '--', pid]);
  t.is(both.code, 0, both.stderr);
  t.deepEqual(JSON.parse(both.stdout).processes.map((p: { pid: number }) => p.pid), [process.pid, fixture.pid]);
  const top = runCli(['top', '--json', '--', pid]);
  t.is(top.code, 0, top.stderr);
  t.deepEqual(JSON.parse(top.stdout).processes.map((p: { pid: number }) => p.pid), [fixture.pid]);
  const watch = runCli(['watch', '--count', '1', '--json', '--', pid]);
  t.is(watch.code, 0, watch.stderr);
  t.is(JSON.parse(watch.stdout).pid, fixture.pid);
  const metrics = runCli(['metrics', '--', pid]);
  t.is(metrics.code, 0, metrics.stderr);
  t.regex(metrics.stdout, new RegExp(`fdscan_process_open_fds\\{pid="${pid}"`));
  // After --, an option is an operand too: not a pid, said in one line.
  const option = runCli(['--', '--json']);
  t.is(option.code, 2);
  t.is(option.stderr, "fdscan: not a process id: '--json' (expected a positive number such as 1234) (see fdscan --help)\n");
  const two = runCli(['watch', pid, '--', pid]);
  t.is(two.code, 2);
  t.is(two.stderr, "fdscan: watch takes one pid, not 2 (see fdscan --help)\n");
});

linuxTest('an unusable COLUMNS is one rule: not a whole number counts as unset, a small one is raised to 24 columns', (t) => {
  const wide = runCli([String(fixture.pid), '--no-peers']);
  t.is(wide.code, 0, wide.stderr);
  for (const columns of ['-5', '0.5', 'abc', '0']) {
    const result = runCli([String(fixture.pid), '--no-peers'], { env: { COLUMNS: columns } });
    t.is(result.code, 0, result.stderr);
    t.is(result.stdout, wide.stdout, `COLUMNS=${columns}: as without COLUMNS`);
  }
  for (const columns of ['1', '5']) {
    const result = runCli([String(fixture.pid), '--no-peers'], { env: { COLUMNS: columns } });
    t.is(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    // It had drawn one character per line ("p…", "9", "d", ...).
    t.regex(lines[0]!, new RegExp(`^pid ${fixture.pid} `), `COLUMNS=${columns}`);
    t.true(lines.every((line) => [...line].length <= 24), `COLUMNS=${columns}: 24 columns at most`);
    t.true(lines.some((line) => [...line].length >= 20), `COLUMNS=${columns}: lines use the 24 columns`);
  }
});

test('--help teaches: commands, examples, exit status', (t) => {
  const result = runCli(['--help']);
  t.is(result.code, 0);
  for (const needle of ['inherit-diff', 'run', 'Examples:', 'Exit status:', '--inheritable', '--json']) t.true(result.stdout.includes(needle), needle);
});

linuxTest('no pid: audits the invoking process, not fdscan or an npm wrapper', (t) => {
  const result = runCli(['--json', '--no-peers']);
  t.is(result.code, 0, result.stderr);
  t.is(JSON.parse(result.stdout).pid, process.pid); // the test worker ran the binary
});
