/** The audit command as a user runs it: the real binary, normalised output compared to snapshots. */
import test from 'ava';
import { runCli } from '../helpers/cli.js';
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

test('bad input: one clear line that points to --help, and exit 2', (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['abc'], /^fdscan: not a process id: 'abc' \(expected a positive number such as 1234\) \(see fdscan --help\)\n$/],
    [['-5'], /^fdscan: [^\n]+ \(see fdscan --help\)\n$/],
    [['--all', '1'], /^fdscan: give pids or --all, not both \(see fdscan --help\)\n$/],
    [['--bogus'], /^fdscan: Unknown argument: bogus \(see fdscan --help\)\n$/],
    // An option given without its value is bad usage, never an internal error, nor ignored.
    [['--type'], /^fdscan: --type needs a value \(see fdscan --help\)\n$/],
    [['top', '-n'], /^fdscan: -n needs a value \(see fdscan --help\)\n$/],
    [['watch', String(process.pid), '--interval'], /^fdscan: --interval needs a value \(see fdscan --help\)\n$/],
    [['watch', String(process.pid), '--count'], /^fdscan: --count needs a value \(see fdscan --help\)\n$/],
    [['gate', '--baseline', '--', 'true'], /^fdscan: --baseline needs a value \(see fdscan --help\)\n$/],
    [['gate', '--allow', '--', 'true'], /^fdscan: --allow needs a value \(see fdscan --help\)\n$/],
    [['gate', '-o', '--', 'true'], /^fdscan: -o needs a value \(see fdscan --help\)\n$/],
    [['gate', '--junit', '--', 'true'], /^fdscan: --junit needs a value \(see fdscan --help\)\n$/],
    [['gate', '--config', '--', 'true'], /^fdscan: --config needs a value \(see fdscan --help\)\n$/],
    [['inherit-diff', '-o', '--', 'true'], /^fdscan: -o needs a value \(see fdscan --help\)\n$/],
    [['run', '--keep', '--', 'true'], /^fdscan: --keep needs a value \(see fdscan --help\)\n$/],
    [['lifecycle', '--input', '--', 'true'], /^fdscan: --input needs a value \(see fdscan --help\)\n$/],
  ];
  for (const [args, expected] of cases) {
    const result = runCli(args);
    t.is(result.code, 2, args.join(' '));
    t.regex(result.stderr, expected, args.join(' '));
    t.false(/\n\s+at /.test(result.stderr), 'no stack trace');
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
