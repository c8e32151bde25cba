/**
 * `fdscan gate` reports as a linter's: one finding per open file with its receivers, how to fix it,
 * descriptors passed by known protocols (make's jobserver, systemd socket activation) never blamed,
 * `--allow exe:`, `--baseline`. Real programs throughout.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { fdscanBin, fixturesDir } from '../helpers/fixture.js';

const linux = process.platform === 'linux' ? test : test.skip;

/** The Python interpreter itself, not pyenv's shell shim, so the fixture is the program that opens. */
const python = process.platform === 'linux'
  ? spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim()
  : 'python3';

interface Receiver { pid: number; argv: string[]; exe: string; fd: number }
interface GateDocument {
  schema: string;
  passed: boolean;
  findings: Array<{ kind: string; fd: number; target: string; receivers: Receiver[]; fix: { language: string; text: string }; baselined?: boolean }>;
  protocol: Array<{ protocol: string; variable: string; fd: number; receivers: Receiver[] }>;
  allowed: Array<{ spec: string; receivers: Receiver[] }>;
  baseline?: { stale: unknown[] };
}

const leakLogs = (dir: string, count: number, ...logs: string[]) => [python, join(fixturesDir, 'leak-logs.py'), dir, String(count), ...logs];

linux('one log leaked to 20 execs is one finding: a count and the first three in text, all 20 in JSON', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const text = runCli(['gate', '--', ...leakLogs(dir, 20, 'app.log')]);
    t.is(text.code, 1, text.stderr);
    t.regex(text.stderr, /^fdscan gate: 1 finding \(21 processes, exit status 0\)$/m);
    const leaks = text.stderr.split('\n').filter((l) => l.startsWith('  leak  '));
    t.deepEqual(leaks, [`  leak  fd 3 REG ${join(dir, 'app.log')}`], text.stderr);
    t.regex(text.stderr, /^ {8}leaked to 20 execs: \/bin\/true \(pid \d+\), \/bin\/true \(pid \d+\), \/bin\/true \(pid \d+\) and 17 more$/m);
    const said = text.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('  ambient  '));
    // The origin adds three lines (made close-on-exec; made inheritable; its stack): still one block, not one per exec.
    t.is(said.length, 8, `a header and seven lines, not one block per exec: ${text.stderr}`);

    const json = join(dir, 'gate.json');
    t.is(runCli(['gate', '--json', '-o', json, '--', ...leakLogs(dir, 20, 'app.log')]).code, 1);
    const doc = JSON.parse(readFileSync(json, 'utf8')) as GateDocument;
    t.is(doc.schema, 'fdscan/gate@2');
    t.is(doc.findings.length, 1);
    const [finding] = doc.findings;
    t.is(finding!.receivers.length, 20);
    t.is(new Set(finding!.receivers.map((r) => r.pid)).size, 20, 'twenty distinct execs');
    for (const r of finding!.receivers) t.like(r, { argv: ['/bin/true'], fd: 3 });
  });
});

linux('each finding says how to fix it in the opener\'s language: Python, shell', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const py = runCli(['gate', '--json', '--', ...leakLogs(dir, 1, 'app.log')]);
    const pyFix = (JSON.parse(py.stderr) as GateDocument).findings[0]!.fix;
    t.is(pyFix.language, 'python');
    t.regex(pyFix.text, /os\.set_inheritable\(3, False\)/);
    t.regex(pyFix.text, /close_fds=True/);

    const shell = runCli(['gate', '--', 'sh', '-c', `exec 7>${join(dir, 'sh.log')}; /bin/true`]);
    t.is(shell.code, 1, shell.stderr);
    t.regex(shell.stderr, /^ {8}opened by sh -c 'exec 7>.*sh\.log; \/bin\/true' \(pid \d+\)$/m);
    t.regex(shell.stderr, /^ {8}fix: shell: .*`cmd 7>&-`.*`exec 7>&-`/m);
  });
});

linux('argv is shortened in text (first line, an ellipsis, a bounded width) and whole in JSON', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const script = 'import os, subprocess, sys\nfd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)\nos.set_inheritable(fd, True)\n' +
      `subprocess.run(['/bin/true'], close_fds=False)\n# ${'x'.repeat(300)}`;
    const command = [python, '-c', script, join(dir, 'a.log')];
    const text = runCli(['gate', '--', ...command]);
    t.is(text.code, 1, text.stderr);
    t.regex(text.stderr, /^ {8}opened by \S+ -c 'import os, subprocess, sys… \(pid \d+\)$/m);
    t.false(text.stderr.includes('xxxxxxxxxx'), 'the rest of the script is not printed');
    const doc = JSON.parse(runCli(['gate', '--json', '--', ...command]).stderr) as GateDocument & { findings: Array<{ opener: { argv: string[] } }> };
    t.deepEqual(doc.findings[0]!.opener.argv, command);
    const long = runCli(['gate', '--', 'sh', '-c', `exec 6>${join(dir, 'b.log')}; /bin/echo ${'y'.repeat(400)} >/dev/null`]);
    t.is(long.code, 1, long.stderr);
    const lines = long.stderr.split('\n');
    t.true(lines.some((l) => /^ {8}leaked to \/bin\/echo y+… \(pid \d+\)$/.test(l)), long.stderr);
    for (const line of lines.filter((l) => !l.includes('fix:'))) t.true(line.length <= 140, line);
  });
});

linux('a recursive make -j4 passes: the jobserver pipe is passed by protocol, not a leak', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'Makefile'), 'all:\n\t+$(MAKE) -C sub\n');
    writeFileSync(join(dir, 'sub', 'Makefile'), 'all: a b c d\na b c d:\n\t/bin/echo $@ > $@.out\n\tcat $@.out > /dev/null\n');
    const json = join(dir, 'gate.json');
    const result = runCli(['gate', '-o', json, '--json', '--', 'make', '-j4', '-C', dir]);
    t.is(result.code, 0, readFileSync(json, 'utf8'));
    for (const target of ['a', 'b', 'c', 'd']) t.true(existsSync(join(dir, 'sub', `${target}.out`)), 'the sub-make ran its rules');
    const doc = JSON.parse(readFileSync(json, 'utf8')) as GateDocument;
    t.true(doc.passed);
    t.deepEqual(doc.findings, []);
    // GNU make before 4.4 passes the jobserver as two pipe descriptors (4.4 defaults to a named fifo: none).
    const version = /GNU Make (\d+)\.(\d+)/.exec(spawnSync('make', ['--version'], { encoding: 'utf8' }).stdout);
    if (version && Number(version[1]) * 100 + Number(version[2]) < 404) {
      const passed = doc.protocol.filter((p) => p.protocol === 'make-jobserver');
      t.is(passed.length, 2, JSON.stringify(doc.protocol));
      for (const p of passed) t.true(p.receivers.some((r) => r.argv.includes('sub')), JSON.stringify(p));
      const text = runCli(['gate', '--', 'make', '-j4', '-C', dir]);
      t.is(text.code, 0, text.stderr);
      t.regex(text.stderr, /protocol {2}fd \d+ FIFO pipe:\[\d+\] to make -C sub .*: passed by GNU make jobserver \(MAKEFLAGS\), not blamed/);
    } else {
      t.log(`make ${version?.[0]}: jobserver through a fifo, no descriptor passed`);
    }
  });
});

/** systemd-socket-activate where Debian's systemd package puts it. */
const socketActivate = ['/usr/bin/systemd-socket-activate', '/lib/systemd/systemd-socket-activate'].find((path) => existsSync(path));

/** A loopback port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Read what a connection to `port` sends until the other side closes it. */
async function readFrom(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => { data += chunk.toString(); });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

/** `fdscan gate --json -- systemd-socket-activate -l 127.0.0.1:PORT SERVICE...`, with one connection read from the service. */
async function underSocketActivation(service: string[]): Promise<{ code: number | null; doc: GateDocument; reply: string; stderr: string }> {
  // The port may be taken between freePort and the bind: then systemd-socket-activate fails at once, and we try another.
  for (let attempt = 1; attempt <= 5; attempt++) {
    const port = await freePort();
    const gate = spawn(process.execPath, [fdscanBin, 'gate', '--json', '--', socketActivate!, '-l', `127.0.0.1:${port}`, ...service], {
      stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' },
    });
    let stderr = '';
    const listening = new Promise<boolean>((resolve) => {
      gate.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes(`Listening on 127.0.0.1:${port}`)) resolve(true);
      });
      gate.on('close', () => resolve(false));
    });
    const exited = new Promise<number | null>((resolve) => gate.on('close', (code) => resolve(code)));
    if (!(await listening)) continue;
    const reply = await readFrom(port);
    const code = await exited;
    return { code, doc: JSON.parse(stderr.slice(stderr.indexOf('{"schema"'))) as GateDocument, reply, stderr };
  }
  throw new Error('no free loopback port in five attempts');
}

const socketActivated = socketActivate ? linux : (title: string) => linux(title, (t) => t.fail("systemd-socket-activate is missing: install Debian's systemd package (.ci/run does)"));

socketActivated('a socket-activated service under the gate passes: LISTEN_FDS descriptors are passed by protocol', async (t) => {
  const { code, doc, reply, stderr } = await underSocketActivation([python, join(fixturesDir, 'socket-activated-hello.py')]);
  t.is(reply, 'hello\n');
  t.is(code, 0, stderr);
  t.true(doc.passed);
  t.deepEqual(doc.findings, []);
  const [passed] = doc.protocol;
  t.like(passed, { protocol: 'systemd-socket-activation', variable: 'LISTEN_FDS', fd: 3 });
  t.true(passed!.receivers.some((r) => r.argv[0] === python), JSON.stringify(passed));
});

socketActivated('a service that passes its activated socket on to a child is blamed for it, with the shell\'s fix', async (t) => {
  const script = `/bin/true; exec ${python} ${join(fixturesDir, 'socket-activated-hello.py')}`;
  const { code, doc, reply } = await underSocketActivation(['sh', '-c', script]);
  t.is(reply, 'hello\n');
  t.is(code, 1);
  t.is(doc.findings.length, 1, JSON.stringify(doc.findings));
  const [leak] = doc.findings as Array<GateDocument['findings'][number] & { opener: { argv: string[]; receivedBy?: string } }>;
  t.deepEqual(leak!.receivers.map((r) => r.argv), [['/bin/true']]);
  t.like(leak!.opener, { argv: ['sh', '-c', script], receivedBy: 'systemd-socket-activation' });
  t.is(leak!.fix.language, 'shell');
  t.regex(leak!.fix.text, /3>&-/);
  // sh itself, and the service it exec'd into, got it by the protocol.
  t.deepEqual(doc.protocol[0]!.receivers.map((r) => r.argv[0]), ['sh', python]);
});

linux('Node\'s child_process.fork IPC channel is passed by protocol', (t) => {
  const result = runCli(['gate', '--json', '--', process.execPath, join(fixturesDir, 'fork-ipc.mjs')]);
  t.is(result.code, 0, result.stderr);
  const doc = JSON.parse(result.stderr) as GateDocument;
  t.deepEqual(doc.findings, []);
  t.true(doc.protocol.some((p) => p.protocol === 'node-ipc' && p.variable === 'NODE_CHANNEL_FD' && p.receivers.length === 1), JSON.stringify(doc.protocol));
});

linux('numbers a protocol variable names are a leak when they hold something else, or name another process', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const log = join(dir, 'x.log');
    // A log where the jobserver pipe would be.
    const make = runCli(['gate', '--', 'sh', '-c', `exec 3>${log} 4>${log}; /bin/true`], { env: { MAKEFLAGS: ' -j4 --jobserver-auth=3,4' } });
    t.is(make.code, 1, make.stderr);
    // Two findings of one kind from one program: one group with its count.
    t.regex(make.stderr, /^fdscan gate: 2 findings /m);
    t.deepEqual(make.stderr.split('\n').filter((l) => l.startsWith('  leak  ')), [`  leak  2 REG descriptors: fd 3 REG ${log}, fd 4 REG ${log}`], make.stderr);
    t.notRegex(make.stderr, /protocol {2}/);
    // LISTEN_PID names another process: the descriptors are not this program's (sd_listen_fds).
    const listen = runCli(['gate', '--', 'sh', '-c', `exec 3>${log}; /bin/true`], { env: { LISTEN_FDS: '1', LISTEN_PID: '1' } });
    t.is(listen.code, 1, listen.stderr);
    t.notRegex(listen.stderr, /protocol {2}/);
  });
});

linux('--allow exe:GLOB lets through what a program receives, by its executable or argv[0]', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const command = leakLogs(dir, 3, 'app.log');
    for (const spec of ['exe:true', 'exe:/usr/bin/true', 'program:**/tru?', 'program:/bin/true']) {
      const result = runCli(['gate', '--allow', spec, '--', ...command]);
      t.is(result.code, 0, `${spec}: ${result.stderr}`);
      t.true(result.stderr.includes(`allowed (${spec})  fd 3 REG ${join(dir, 'app.log')} to 3 execs: /bin/true (pid`), result.stderr);
    }
    for (const spec of ['exe:sh', 'exe:/usr/bin/tru', 'program:python*']) t.is(runCli(['gate', '--allow', spec, '--', ...command]).code, 1, spec);
  });
});

linux('--baseline: recorded findings pass, in another temp dir too; a new one fails with 1', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const baseline = join(dir, 'fdscan-baseline.json');
    t.is(runCli(['gate', '--baseline', baseline, '--', ...leakLogs(dir, 1, 'app.log')]).code, 2, 'no baseline yet: a usage error, not an empty one');
    t.false(existsSync(baseline));
    const update = runCli(['gate', '--baseline', baseline, '--update-baseline', '--', 'sh', '-c', `exec 7>${join(dir, 'sh.log')}; /bin/true`]);
    t.is(update.code, 0, update.stderr);
    t.regex(update.stderr, /fdscan gate: passed \(1 finding in the baseline/);
    const record = runCli(['gate', '--baseline', baseline, '--update-baseline', '--', ...leakLogs(dir, 2, 'app.log')]);
    t.is(record.code, 0, record.stderr);
    const written = JSON.parse(readFileSync(baseline, 'utf8')) as { schema: string; entries: Array<Record<string, string | number>> };
    t.is(written.schema, 'fdscan/gate-baseline@2');
    t.deepEqual(written.entries, [{ kind: 'inherited', opener: 'python leak-logs.py', descriptor: `REG ${join(tmpdir(), 'fdscan-gate-*', 'app.log')}`, receiver: 'true', count: 1 }]);
    t.false(readFileSync(baseline, 'utf8').includes(dir), 'no temp dir, no pid in the baseline');

    withTempDir('fdscan-gate', (other) => {
      const known = runCli(['gate', '--baseline', baseline, '--', ...leakLogs(other, 5, 'app.log')]);
      t.is(known.code, 0, known.stderr);
      t.regex(known.stderr, /^fdscan gate: passed \(1 finding in the baseline, /m);
      t.regex(known.stderr, /^ {2}known {2}fd 3 REG .*app\.log to 5 execs: .* \(in the baseline\)$/m);

      const json = join(other, 'gate.json');
      const grown = runCli(['gate', '--baseline', baseline, '--json', '-o', json, '--', ...leakLogs(other, 1, 'app.log', 'new.log')]);
      t.is(grown.code, 1);
      const doc = JSON.parse(readFileSync(json, 'utf8')) as GateDocument;
      t.false(doc.passed);
      t.deepEqual(doc.findings.map((f) => [f.target, f.baselined ?? false]), [[join(other, 'app.log'), true], [join(other, 'new.log'), false]]);
      const text = runCli(['gate', '--baseline', baseline, '--', ...leakLogs(other, 1, 'app.log', 'new.log')]);
      t.regex(text.stderr, /^fdscan gate: 1 new finding \(1 finding in the baseline, /m);
      t.deepEqual(text.stderr.split('\n').filter((l) => l.startsWith('  leak  ')), [`  leak  fd 4 REG ${join(other, 'new.log')}`]);

      // Fixed since: the entry is said to be stale.
      const fixed = runCli(['gate', '--baseline', baseline, '--', 'true']);
      t.is(fixed.code, 0, fixed.stderr);
      t.regex(fixed.stderr, /baseline: 1 entry no longer found; --update-baseline drops it/);
    });
    t.is(runCli(['gate', '--update-baseline', '--', 'true']).code, 2, '--update-baseline needs --baseline');
    t.is(runCli(['gate', '--baseline', join(dir, 'no-such-dir', 'b.json'), '--update-baseline', '--', 'true']).code, 2);
    writeFileSync(join(dir, 'bad.json'), '{"entries": 3}');
    t.is(runCli(['gate', '--baseline', join(dir, 'bad.json'), '--', 'true']).code, 2);
  });
});
