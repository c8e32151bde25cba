/**
 * Names chosen by an attacker (terminal escapes, newlines, control bytes, invalid UTF-8, C1 and bidi
 * controls, lines starting with GitHub workflow commands) in comm, argv, file names and unix socket
 * paths, through every text renderer: no raw control character reaches the output, no name starts a
 * line, GitHub annotations cannot be injected, JUnit XML parses. The names must also be shown (escaped),
 * so a renderer that dropped them would fail too.
 */
import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SaxesParser } from 'saxes';
import { runCli } from '../helpers/cli.js';
import { fdscanBin, fixturesDir, startFixture, type RunningFixture } from '../helpers/fixture.js';

const linux = process.platform === 'linux' ? test : test.skip;

/** Raw in a line of output: C0 (a newline only ends lines), DEL, C1, line separators, bidi controls, U+FFFD, lone surrogates. */
const RAW = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufffd-\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The file names the fixture opens, as fdscan must show them. */
const SHOWN_FILES = ['osc \\x1b]0;X\\x07 title', 'clear \\x1b[2J screen', 'new\\nline', 'ctl \\x01 byte', 'bad utf8 \\xff\\xfe',
  '\\n::warning file=x,line=1::injected', 'c1 \\u009b31m csi', 'del \\x7f', 'back\\\\nslash', 'tab\\there', '%0A::error::pct', 'bidi \\u202e rlo'];
/** Its comm (15 bytes), the part fdscan shows exactly. */
const SHOWN_COMM = '\\x1b[2J\\x1b]0;X\\x07\\n::\\x01';
/** Its hostile argv: invalid UTF-8 is lost to decoding in argv (no raw bytes kept), so U+FFFD, escaped. */
const SHOWN_ARGV = ['\\x1b]0;X\\x07', '\\x1b[2J', 'a\\nb', '\\x01', '\\ufffd\\ufffd', '\\n::warning::argv', '\\u009b', '%0A::error::x'];

/** Every line of `text` free of raw characters and not starting a workflow command (but `allowed` ones). */
function assertClean(t: ExecutionContext, text: string, label: string, allowed?: RegExp): void {
  const offenders = text.split('\n').flatMap((line, i) => {
    const raw = RAW.exec(line);
    const command = line.trimStart().startsWith('::') && !(allowed?.test(line) ?? false);
    return raw || command ? [`${label} line ${i + 1}: ${raw ? `raw ${JSON.stringify(raw[0])}` : 'starts a workflow command'}: ${JSON.stringify(line.slice(0, 200))}`] : [];
  });
  t.deepEqual(offenders, [], `${label}: ${offenders.length} bad lines`);
}

function assertShows(t: ExecutionContext, text: string, label: string, snippets: string[]): void {
  const missing = snippets.filter((s) => !text.includes(s));
  t.deepEqual(missing, [], `${label} does not show ${JSON.stringify(missing)}:\n${text.slice(0, 3000)}`);
}

interface HostileManifest {
  pid: number;
  child_pid: number;
  files: Array<{ fd: number; name_b64: string }>;
}

/** The Python interpreter itself, not a shell shim, so the fixture is the root of a traced tree. */
const python = process.platform === 'linux'
  ? spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim()
  : 'python3';

let fixture: RunningFixture<HostileManifest> | undefined;
test.before(async () => {
  if (process.platform === 'linux') fixture = await startFixture<HostileManifest>('hold-hostile-names.py', ['hold']);
});
test.after.always(async () => fixture?.stop());

linux('audit table: comm, argv, paths, socket names and peer commands escaped', (t) => {
  const result = runCli([String(fixture!.pid)]);
  t.is(result.code, 0, result.stderr);
  assertClean(t, result.stdout, 'table');
  assertClean(t, result.stderr, 'stderr');
  // Socket names are shown as the probe decodes them (no raw bytes kept): their invalid bytes are not asserted.
  assertShows(t, result.stdout, 'table', [...SHOWN_FILES, `pid ${fixture!.pid} ${SHOWN_COMM}`, `/${SHOWN_COMM}`, 'sock \\x1b[2J \\x01 ::warning::s ',
    '@fdscan-hostile \\x1b]0;X\\x07 \\x7f ']);
});

linux('audit --all: every process table and the summary line escaped', (t) => {
  const result = runCli(['--all', '--no-peers']);
  t.is(result.code, 0, result.stderr);
  assertClean(t, result.stdout, '--all');
  assertShows(t, result.stdout, '--all', [`pid ${fixture!.pid} ${SHOWN_COMM}`, ...SHOWN_FILES]);
  t.regex(result.stdout, /\n\d+ process(?:es)? audited, \d+ not readable by this user, \d+ exited meanwhile(?:, \d+ kernel threads? left out \(no descriptor table\))?\n$/);
});

linux('audit --json keeps the exact strings: nothing escaped in JSON', (t) => {
  const result = runCli([String(fixture!.pid), '--json', '--no-peers']);
  t.is(result.code, 0, result.stderr);
  const document = JSON.parse(result.stdout) as { command: string; argv: string[]; fds: Array<{ target: string }> };
  t.true(document.command.startsWith('\u001b[2J\u001b]0;X\u0007\n::\u0001'), JSON.stringify(document.command));
  t.deepEqual(document.argv.slice(-8), ['\u001b]0;X\u0007', '\u001b[2J', 'a\nb', '\u0001', '\ufffd\ufffd', '\n::warning::argv', '\u009b', '%0A::error::x']);
  t.true(document.fds.some((d) => d.target.endsWith('/osc \u001b]0;X\u0007 title')));
});

linux('inherit-diff PARENT CHILD: the shared rows escaped', (t) => {
  const result = runCli(['inherit-diff', String(fixture!.pid), String(fixture!.manifest.child_pid)]);
  t.is(result.code, 0, result.stderr);
  assertClean(t, result.stdout, 'pair');
  assertShows(t, result.stdout, 'pair', SHOWN_FILES);
});

// Serial: the other tests block this worker's event loop in spawnSync, which would hold back the
// "more" written after the first sample until the watch has ended.
const linuxSerial = process.platform === 'linux' ? test.serial : test.skip;

linuxSerial('watch: the sample lines (argv, opened files) and the summary escaped', async (t) => {
  const watch = spawn(process.execPath, [fdscanBin, 'watch', String(fixture!.pid), '--interval', '150ms', '--count', '6'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  watch.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  const lines = createInterface({ input: watch.stdout });
  lines.on('line', (line) => {
    stdout += `${line}\n`;
    // After the first sample, the fixture opens its files again under "later " names.
    if (/^sample 0 /.test(line)) fixture!.child.stdin!.write('more\n');
  });
  const code = await new Promise<number | null>((resolve) => watch.once('close', resolve));
  t.is(code, 0, stderr);
  assertClean(t, stdout, 'watch');
  assertClean(t, stderr, 'watch stderr');
  assertShows(t, stdout, 'watch', [...SHOWN_ARGV, ...SHOWN_FILES.map((name) => `later ${name}`)]);
  t.regex(stdout, /\n {2}\+ fd \d+ +REG +\S+later bad utf8 \\xff\\xfe\n/);
  t.regex(stdout, /descriptors? appeared and stayed:\n {4}fd \d+ +REG +\S+later osc \\x1b\]0;X\\x07 title/);
});

linux('lifecycle: the command line and the descriptors of each step escaped', (t) => {
  const dir = scratchDir();
  // fdscan itself starts holding a file with a hostile name at 40: step 0 lists it, the child receives it.
  const extra = openSync(Buffer.concat([Buffer.from(`${dir}/ambient \u001b]0;X\u0007 `), Buffer.from([0xff, 0x0a]), Buffer.from('::warning::f')]), 'w');
  try {
    const result = spawnSync(process.execPath, [fdscanBin, 'lifecycle', '--', 'sh', '-c', 'cat >/dev/null', '\u001b]0;X\u0007', 'a\nb', '\n::warning::argv'], {
      stdio: ['ignore', 'pipe', 'pipe', ...Array<'ignore'>(37).fill('ignore'), extra], encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' },
    });
    t.is(result.status, 0, result.stderr);
    assertClean(t, result.stdout, 'lifecycle');
    assertShows(t, result.stdout, 'lifecycle', ['sh -c cat >/dev/null \\x1b]0;X\\x07 a\\nb \\n::warning::argv', 'ambient \\x1b]0;X\\x07 \\xff\\n::warning::f']);
    t.regex(result.stdout, /\n {6}fd 40 +REG +\S+ambient \\x1b\]0;X\\x07 \\xff\\n::warning::f {2}beyond 0, 1, 2: ambient/);
  } finally {
    closeSync(extra);
  }
});

/** A fresh directory for a test's files, inside the fixture's work directory (removed with it). */
function scratchDir(): string {
  return mkdtempSync(join(fixture!.workdir, 'scratch-'));
}

/** The fixture's spawn mode: it opens every name and runs `sh` with hostile argv, which receives them all. */
const spawnTree = (dir: string) => [python, join(fixturesDir, 'hold-hostile-names.py'), dir, 'spawn', '\u001b]0;T\u0007', 'x\ny'];

linux('inherit-diff -- CMD: the exec lines (argv quoted) and received descriptors escaped', (t) => {
  const dir = scratchDir();
  const result = runCli(['inherit-diff', '--', ...spawnTree(dir)]);
  t.is(result.code, 0, result.stderr);
  assertClean(t, result.stderr, 'inherit-diff');
  assertShows(t, result.stderr, 'inherit-diff', [...SHOWN_FILES, "spawn $'\\x1b]0;T\\x07' $'x\\ny'",
    "exec /bin/sh -c 'exit 0' $'\\x1b]0;X\\x07' $'\\x1b[2J' $'a\\nb' $'\\x01' $'\\ufffd\\ufffd' $'\\n::warning::argv' $'\\u009b' %0A::error::x:"]);
});

/** What the Actions runner reads from a workflow command line: the command and the message, decoded. */
function decodeAnnotation(line: string): string {
  return line.slice(line.indexOf('::', 2) + 2).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

linux('gate: the text report, GitHub annotations, JUnit XML and the --html page hold whatever the names are', (t) => {
  const dir = scratchDir();
  const junit = join(dir, 'gate.xml');
  const page = join(dir, 'gate.html');
  const result = runCli(['gate', '--junit', junit, '--html', page, '--', ...spawnTree(dir)], { env: { GITHUB_ACTIONS: 'true' } });
  t.is(result.code, 1, result.stderr);
  const findings = Number(/fdscan gate: (\d+) findings/.exec(result.stderr)?.[1]);
  t.true(findings >= SHOWN_FILES.length, result.stderr);
  // Findings of one kind are one group: a leak line and an annotation each, with the count.
  const leakLines = result.stderr.split('\n').filter((line) => line.startsWith('  leak  '));
  const counts = leakLines.map((line) => Number(/^ {2}leak {2}(?:(\d+) \S+ descriptors:|fd )/.exec(line)?.[1] ?? 1));
  t.is(counts.reduce((a, b) => a + b, 0), findings, result.stderr);
  // The only workflow commands are fdscan's own: one ::error per group, each one line.
  const annotation = /^::error title=fdscan gate::(fd|\d+ \S+ descriptors:) /;
  assertClean(t, result.stderr, 'gate', annotation);
  const annotations = result.stderr.split('\n').filter((line) => line.trimStart().startsWith('::'));
  t.is(annotations.length, leakLines.length);
  for (const line of annotations) {
    t.regex(line, annotation);
    // Decoded as the runner decodes it, a message holds no newline or control: names stay escaped.
    t.false(RAW.test(decodeAnnotation(line)), line);
  }
  // The names a group shows (its first three) escaped; the receiver's argv shortened to its first line (it holds `a\nb`), escaped.
  const shown = SHOWN_FILES.filter((name) => leakLines.some((line) => line.includes(`/${name},`) || line.endsWith(`/${name}`) || line.includes(`/${name} and`)));
  t.true(shown.length >= Math.min(3, SHOWN_FILES.length), leakLines.join('\n'));
  assertShows(t, result.stderr, 'gate', ["leaked to /bin/sh -c 'exit 0' $'\\x1b]0;X\\x07' $'\\x1b[2J' a… (pid"]);
  // A % in a name an annotation shows is encoded as the runner decodes it.
  if (shown.includes('%0A::error::pct')) assertShows(t, annotations.join('\n'), 'annotations', ['%250A::error::pct']);

  const xml = readFileSync(junit, 'utf8');
  const errors: string[] = [];
  let failures = 0;
  const parser = new SaxesParser();
  parser.on('error', (error) => errors.push(error.message));
  parser.on('opentag', (tag) => { if (tag.name === 'failure') failures++; });
  parser.write(xml).close();
  t.deepEqual(errors, [], xml.slice(0, 2000));
  t.is(failures, leakLines.length);
  assertClean(t, xml, 'junit');
  // Every finding of a group is in its failure's text, each name escaped.
  assertShows(t, xml, 'junit', SHOWN_FILES.map((name) => `/${name.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')} opened by`));
  t.true(xml.includes('bad utf8 \\xff\\xfe opened by'), xml.slice(0, 2000));

  // The page: every file name shown (escaped as in the text, then as HTML), no raw character, no markup from a name.
  const html = readFileSync(page, 'utf8');
  assertClean(t, html, 'html');
  const entities = (name: string): string => name.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  assertShows(t, html, 'html', SHOWN_FILES.map((name) => `/${entities(name)}</code>`));
});

linux('a wrapped command that does not exist is named escaped in the one error line', (t) => {
  for (const command of ['run', 'gate', 'inherit-diff']) {
    const result = runCli([command, '--', 'fdscan-missing \u001b[2J\n::warning::x']);
    t.is(result.code, 127, `${command}: ${result.stderr}`);
    t.is(result.stderr.split('\n').length, 2, `${command}: one line: ${JSON.stringify(result.stderr)}`);
    assertClean(t, result.stderr, command);
    t.true(result.stderr.includes('fdscan-missing \\x1b[2J\\n::warning::x'), result.stderr);
  }
});
