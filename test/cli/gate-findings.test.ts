/**
 * What the gate counts and how it says it: one finding per leaked file (a shell that execs another
 * script is not a reloader), long re-exec chains in one short line, the fix naming the number the
 * program holds, a baseline that lets through exactly what it counted, findings of one kind grouped
 * with their count (every one in JSON), nginx's listener hand-over passed by protocol.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { freePort } from '../helpers/free-port.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { fdscanBin, fixturesDir } from '../helpers/fixture.js';

const linux = process.platform === 'linux' ? test : test.skip;

/** The Python interpreter itself, not pyenv's shell shim, so the fixture is the program that opens. */
const python = process.platform === 'linux'
  ? spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim()
  : 'python3';

interface Finding { kind: string; fd?: number; target?: string; baselined?: boolean; receivers?: Array<{ argv: string[] }>; fix: { text: string } }
interface GateDocument {
  passed: boolean;
  exitStatus: number;
  findings: Finding[];
  protocol: Array<{ protocol: string; variable: string; fd: number }>;
  baseline?: { exceeded: Array<{ entry: { receiver: string; count: number }; found: number }> };
}

const leakPipes = (dir: string, pipes: number, files: number, ...programs: string[]) =>
  [python, join(fixturesDir, 'leak-pipes.py'), dir, String(pipes), String(files), ...programs];
const lines = (text: string, start: string) => text.split('\n').filter((l) => l.startsWith(start));

linux('a shell script that opens a file and execs another sh -c script: one finding, not a second "re-exec growth" of the same file', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const log = join(dir, 'app.log');
    const result = runCli(['gate', '--json', '--', 'sh', '-c', `exec 7>${log}; exec sh -c 'cat /dev/null; true'`]);
    t.is(result.code, 1, result.stderr);
    const doc = JSON.parse(result.stderr) as GateDocument;
    t.deepEqual(doc.findings.map((f) => [f.kind, f.target]), [['inherited', log]], result.stderr);
    t.deepEqual(doc.findings[0]!.receivers!.map((r) => r.argv[0]), ['sh', 'cat']);
  });
});

linux('a reloader that re-executes itself 100 times: one short line, with the count, the first and last, and the growth', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const result = runCli(['gate', '--', python, join(fixturesDir, 'self-reloader.py'), dir, '0', '100']);
    t.is(result.code, 1, result.stderr);
    const [growth, ...others] = lines(result.stderr, '  growth  ');
    t.deepEqual(others, []);
    t.true(growth!.length < 500, growth);
    t.regex(growth!, /re-executed itself 100 times, holding 0 → 1 → 2 → … → 100 descriptors beyond stdin, stdout and stderr: leaked \[1, 1, 1, …, 1\] file descriptors per cycle over 100 cycles, 100 more at the last exec than at the first \(fd 3, 4, 5, …, 102 REG /);
    const json = runCli(['gate', '--json', '--', python, join(fixturesDir, 'self-reloader.py'), dir, '0', '100']);
    const [finding] = (JSON.parse(json.stderr) as GateDocument & { findings: Array<{ held: number[] }> }).findings;
    t.is(finding!.held.length, 101, 'JSON keeps every count');
  });
});

linux("the fix names the number the shell holds the pipe at: a process substitution moved to fd 5 is closed with 5>&-", (t) => {
  const result = runCli(['gate', '--json', '--', 'bash', '-c', 'exec 5< <(echo hi); /bin/true; :']);
  t.is(result.code, 1, result.stderr);
  const [finding] = (JSON.parse(result.stderr) as GateDocument).findings;
  t.regex(finding!.fix.text, /`cmd 5>&-`.*`exec 5>&-`/);
});

linux('--baseline counts: one recorded pipe lets one through, not three (the extra two fail and are named); a new receiver fails', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const baseline = join(dir, 'baseline.json');
    const record = runCli(['gate', '--baseline', baseline, '--update-baseline', '--', ...leakPipes(dir, 1, 0)]);
    t.is(record.code, 0, record.stderr);
    const written = JSON.parse(readFileSync(baseline, 'utf8')) as { entries: Array<{ receiver: string; descriptor: string; count: number }> };
    t.deepEqual(written.entries.map((e) => [e.descriptor, e.receiver, e.count]), [['FIFO pipe', 'true', 1]]);

    t.is(runCli(['gate', '--baseline', baseline, '--', ...leakPipes(dir, 1, 0)]).code, 0, 'the same run passes');
    const three = runCli(['gate', '--baseline', baseline, '--', ...leakPipes(dir, 3, 0)]);
    t.is(three.code, 1, three.stderr);
    t.regex(three.stderr, /^fdscan gate: 2 new findings \(1 finding in the baseline, /m);
    t.deepEqual(lines(three.stderr, '  baseline  '), ['  baseline  FIFO pipe from python leak-pipes.py to true: recorded 1, found 3: the 2 beyond the baseline fail']);
    const json = JSON.parse(runCli(['gate', '--baseline', baseline, '--json', '--', ...leakPipes(dir, 3, 0)]).stderr) as GateDocument;
    t.deepEqual(json.findings.map((f) => f.baselined ?? false), [true, false, false]);
    t.deepEqual(json.baseline!.exceeded.map((e) => [e.entry.receiver, e.entry.count, e.found]), [['true', 1, 3]]);

    // The same pipe reaching /bin/true and a program the baseline never saw: the finding fails.
    const receiver = runCli(['gate', '--baseline', baseline, '--json', '--', ...leakPipes(dir, 1, 0, '/bin/true', '/bin/false')]);
    t.is(receiver.code, 1, receiver.stderr);
    t.deepEqual((JSON.parse(receiver.stderr) as GateDocument).findings.map((f) => f.baselined ?? false), [false]);
  });
});

linux('a baseline from before counts is refused in one line that says to record it again', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const old = join(dir, 'old.json');
    writeFileSync(old, JSON.stringify({ schema: 'fdscan/gate-baseline@1', entries: [{ kind: 'inherited', opener: 'python leak-pipes.py', descriptor: 'FIFO pipe', receiver: 'true' }] }));
    const result = runCli(['gate', '--baseline', old, '--', 'true']);
    t.is(result.code, 2);
    t.is(result.stderr.split('\n')[0], `fdscan: baseline ${old} is from an older fdscan and does not count findings: record it again with --baseline ${old} --update-baseline (see fdscan --help)`);
  });
});

linux('50 similar leaks: two groups with their counts and one fix each in text, JUnit and annotations; JSON lists all 50', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const junit = join(dir, 'gate.xml');
    const result = runCli(['gate', '--junit', junit, '--', ...leakPipes(dir, 30, 20, '/bin/true', '/bin/false')], { env: { GITHUB_ACTIONS: 'true' } });
    t.is(result.code, 1, result.stderr);
    t.regex(result.stderr, /^fdscan gate: 50 findings \(/m);
    const leaks = lines(result.stderr, '  leak  ');
    t.is(leaks.length, 2, result.stderr);
    t.regex(leaks[0]!, /^ {2}leak {2}30 FIFO descriptors: fd 3 FIFO pipe:\[\d+\], fd \d+ FIFO pipe:\[\d+\], fd \d+ FIFO pipe:\[\d+\] and 27 more$/);
    t.regex(leaks[1]!, new RegExp(`^ {2}leak {2}20 REG descriptors: fd \\d+ REG ${join(dir, 'out-0.log')}, .* and 17 more$`));
    t.is(lines(result.stderr, '        fix: ').length, 2);
    t.is(lines(result.stderr, '        leaked to 2 execs: /bin/true (pid ').length, 2);
    // Two groups of eight lines (each with one origin of three lines and a count of the others).
    t.true(result.stderr.split('\n').length < 23, result.stderr);
    const annotations = lines(result.stderr, '::error ');
    t.is(annotations.length, 2);
    t.regex(annotations[0]!, /::30 FIFO descriptors: .* leaked to 2 execs: .*Fix: Python/);
    const xml = readFileSync(junit, 'utf8');
    t.deepEqual([...xml.matchAll(/<testcase [^>]*name="([^"]*)"/g)].map((m) => m[1]), [
      '30 x FIFO from python leak-pipes.py -&gt; true, false', '20 x REG from python leak-pipes.py -&gt; true, false',
    ]);
    t.regex(xml, /tests="2" failures="2"/);
    const json = runCli(['gate', '--json', '--', ...leakPipes(dir, 30, 20, '/bin/true', '/bin/false')]);
    const doc = JSON.parse(json.stderr) as GateDocument;
    t.is(doc.findings.length, 50);
    t.false(doc.passed);
    t.is(doc.exitStatus, 1);
  });
});

linux("a -c script is named by its first line of code, not `python -c '…'`", (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const script = `\n\nimport os, subprocess\nfd = os.open(${JSON.stringify(join(dir, 'c.log'))}, os.O_WRONLY | os.O_CREAT)\nos.set_inheritable(fd, True)\nsubprocess.run(['/bin/true'], close_fds=False)\n`;
    const result = runCli(['gate', '--', python, '-c', script]);
    t.is(result.code, 1, result.stderr);
    t.regex(result.stderr, /^ {8}opened by \S+ -c 'import os, subprocess… \(pid \d+\)$/m);
  });
});

linux("nginx's binary upgrade (NGINX=\"5;6;\" naming the listeners the new binary inherits) passes by protocol", (t) => {
  const result = runCli(['gate', '--', python, join(fixturesDir, 'nginx-upgrade.py')]);
  t.is(result.code, 0, result.stderr);
  t.regex(result.stderr, /^fdscan gate: passed /m);
  const passed = lines(result.stderr, '  protocol  ');
  t.is(passed.length, 2, result.stderr);
  for (const line of passed) t.regex(line, /SOCK tcp 127\.0\.0\.1:\d+ \(LISTEN\) to .*: passed by nginx's binary upgrade \(NGINX\), not blamed$/);
  // A log at a number NGINX names is still a leak: the protocol passes listening sockets only.
  const log = runCli(['gate', '--', python, join(fixturesDir, 'nginx-upgrade.py'), 'log']);
  t.is(log.code, 1, log.stderr);
});

const nginx = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find((path) => existsSync(path));
const withNginx = process.platform === 'linux' && nginx ? test : test.skip;

/** The pid in `file` once it is there (and differs from `not`). */
async function pidIn(file: string, not?: number): Promise<number> {
  for (let waited = 0; waited < 20_000; waited += 100) {
    const pid = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : 0;
    if (pid > 0 && pid !== not) return pid;
    await sleep(100);
  }
  throw new Error(`no pid in ${file}`);
}

withNginx(`real nginx: a binary upgrade (USR2, then QUIT to the old and the new master) passes the gate${nginx ? '' : ' (skipped: nginx is not installed; .ci/run installs nginx-light)'}`, async (t) => {
  await withTempDir('fdscan-nginx', async (dir) => {
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nworker_processes 1;\nevents {}\n` +
      `http { access_log off; server { listen 127.0.0.1:${await freePort()}; listen 127.0.0.1:${await freePort()}; } }\n`);
    const gate = spawn(process.execPath, [fdscanBin, 'gate', '--', nginx!, '-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    gate.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    const exited = new Promise<number | null>((resolve) => gate.once('exit', (code) => resolve(code)));
    const masters: number[] = [];
    try {
      masters.push(await pidIn(join(dir, 'nginx.pid')));
      process.kill(masters[0]!, 'SIGUSR2');
      masters.push(await pidIn(join(dir, 'nginx.pid'), masters[0]));
      // The old master first (as an upgrade ends), then the new one.
      for (const pid of masters) process.kill(pid, 'SIGQUIT');
      const code = await exited;
      // Both masters are gone with the tree: nothing left to stop (their pids may be reused now).
      masters.length = 0;
      t.is(code, 0, stderr);
      const passed = lines(stderr, '  protocol  ');
      t.is(passed.length, 2, stderr);
      for (const line of passed) t.regex(line, /SOCK tcp 127\.0\.0\.1:\d+ \(LISTEN\) to \S*nginx .*: passed by nginx's binary upgrade \(NGINX\), not blamed$/);
      t.regex(readFileSync(join(dir, 'error.log'), 'utf8'), /using inherited sockets from/);
    } finally {
      // Only on failure, before the tree exited: the masters and fdscan this test started.
      for (const pid of masters) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      if (gate.exitCode === null) gate.kill('SIGKILL');
    }
  });
});
