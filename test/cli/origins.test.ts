/**
 * Origins (issue 21), on real programs: where each leaked descriptor was made, the call, its flags
 * and the stack, from a C program built with -g here, bash's `exec 5>log`, a Python program; checked
 * against strace -f -k; the seccomp filter's stops counted; the filter never outlives its tracer.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { fdscanBin, fixturesDir } from '../helpers/fixture.js';
import { traceCommand } from '../../src/trace/trace-command.js';
import { OriginIndex } from '../../src/trace/origins.js';
import { nativeUnwinder } from '../../probes/linux/native-stack.js';

interface Frame { function?: string; object: string; offset: number; file?: string; line?: number }
interface Call { pid: number; argv: string[]; syscall: string; flags: string[]; path?: string; fd: number; stack: Frame[]; stackUnknown?: string }
type Origin = (Call & { unknown?: undefined; madeInheritable?: Call }) | { unknown: string; madeInheritable?: Call };
interface GateDocument { findings: Array<{ kind: string; fd: number; type: string; target: string; origin?: Origin }> }

const linux = process.platform === 'linux' ? test : test.skip;
const gcc = process.platform === 'linux' && spawnSync('gcc', ['--version']).status === 0;
const withGcc = gcc ? test : test.skip;
const unwinder = process.platform === 'linux' ? nativeUnwinder() : undefined;
const strace = process.platform === 'linux' && spawnSync('strace', ['-V']).status === 0 && /-k|stack-trace/.test(spawnSync('strace', ['-h'], { encoding: 'utf8' }).stdout);
const python = process.platform === 'linux'
  ? spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim()
  : 'python3';

/** Build the fixture with -g into `dir`. */
function build(dir: string): string {
  const binary = join(dir, 'origin-leaker');
  const built = spawnSync('gcc', ['-g', '-O0', '-o', binary, join(fixturesDir, 'origin-leaker.c')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(built.stderr);
  return binary;
}

function gateJson(args: string[], cwd: string): { code: number | null; doc: GateDocument; stderr: string } {
  const result = runCli(['gate', '--json', ...args], { cwd });
  return { code: result.code, doc: JSON.parse(result.stderr) as GateDocument, stderr: result.stderr };
}

const functions = (call: Call | undefined): string[] => (call?.stack ?? []).map((f) => f.function ?? '?');

(gcc && unwinder ? test : test.skip)(`a C program's leaked log, pipe and re-inheritable file name their own functions and lines${gcc && unwinder ? '' : ' (skipped: no gcc or no unwinder)'}`, (t) => {
  withTempDir('fdscan-origins', (dir) => {
    const binary = build(dir);
    const { code, doc, stderr } = gateJson(['--', binary], dir);
    t.is(code, 1, stderr);
    const byFd = new Map(doc.findings.map((f) => [f.fd, f.origin]));
    const log = byFd.get(3) as Call;
    t.is(log.syscall, 'openat');
    t.deepEqual(log.flags, ['O_WRONLY', 'O_CREAT', 'O_APPEND', 'without O_CLOEXEC']);
    t.is(log.path, 'app.log');
    const own = log.stack.filter((f) => f.object === binary);
    t.like(own[0], { function: 'open_the_log', file: join(fixturesDir, 'origin-leaker.c'), line: 7 });
    t.like(own[1], { function: 'main', line: 13 });
    for (const fd of [4, 5]) {
      const pipe = byFd.get(fd) as Call;
      t.is(pipe.syscall, 'pipe2'); // glibc's pipe() is pipe2(fds, 0)
      t.deepEqual(pipe.flags, ['without O_CLOEXEC']);
      t.deepEqual(functions(pipe).filter((f) => f === 'make_pipe' || f === 'main'), ['make_pipe', 'main']);
    }
    // Made with O_CLOEXEC (no stop), then made inheritable by fcntl: both said, the second with its stack.
    const again = byFd.get(6)!;
    t.is(again.unknown, 'close-on-exec');
    t.like(again.madeInheritable, { syscall: 'fcntl', flags: ['F_SETFD', 'without FD_CLOEXEC'], fd: 6 });
    t.true(functions(again.madeInheritable).includes('reinherit'), JSON.stringify(again));
    // The text: two to four lines under each finding, the program's own frames first.
    const text = runCli(['gate', '--', binary], { cwd: dir }).stderr;
    t.regex(text, /made by openat\("app\.log", O_WRONLY\|O_CREAT\|O_APPEND\) without O_CLOEXEC -> fd 3\n {16}at open_the_log \(origin-leaker\.c:7\) <- main \(origin-leaker\.c:13\)\n/);
    // inherit-diff shows every origin (the gate one per group): the re-inheritable file's two calls.
    const diff = runCli(['inherit-diff', '--', binary], { cwd: dir }).stderr;
    t.regex(diff, /\+ fd 6 .*\n {6}made: close-on-exec \(.*\)\n {6}made inheritable by fcntl\(F_SETFD\) without FD_CLOEXEC -> fd 6\n {8}at reinherit \(origin-leaker\.c:9\) <- main \(origin-leaker\.c:15\)\n/);
  });
});

withGcc('--no-origins: no origin in JSON or text, and no filter', (t) => {
  withTempDir('fdscan-origins', (dir) => {
    const binary = build(dir);
    const { code, doc } = gateJson(['--no-origins', '--', binary], dir);
    t.is(code, 1);
    t.is(doc.findings.length, 4);
    t.true(doc.findings.every((f) => f.origin === undefined));
    const text = runCli(['gate', '--no-origins', '--', binary], { cwd: dir }).stderr;
    t.notRegex(text, /made by|made inheritable|made:/);
  });
});

withGcc('a program that opens only with O_CLOEXEC causes no seccomp stop; one without, one per call', async (t) => {
  await withTempDirAsync(async (dir) => {
    const binary = build(dir);
    const clean = await traceCommand([binary, 'cloexec'], { env: { ...process.env }, exitTables: false, forwardSignals: [] });
    t.deepEqual(clean.origins, { traced: true, stops: 0 });
    // The stub's /bin/sh and the fixture: the three calls of the fixture, then what /bin/true's start-up makes.
    const leaky = await traceCommand([binary, '/bin/true'], { exitTables: false });
    t.true(leaky.origins!.traced);
    t.true(leaky.origins!.stops >= 3, JSON.stringify(leaky.origins));
    const off = await traceCommand([binary, 'cloexec'], { exitTables: false, origins: false });
    t.is(off.origins, undefined);
  });
});

linux('bash\'s `exec 5>log`: the call and its flags, in bash', (t) => {
  withTempDir('fdscan-origins', (dir) => {
    const { code, doc, stderr } = gateJson(['--', 'bash', '-c', 'exec 5>log; /bin/true'], dir);
    t.is(code, 1, stderr);
    const finding = doc.findings.find((f) => f.fd === 5)!;
    const origin = finding.origin!;
    // bash opens the file (at 3) and moves it to 5: made by openat, made inheritable at 5 by the move.
    t.like(origin, { syscall: 'openat', path: 'log' });
    t.deepEqual((origin as Call).flags, ['O_WRONLY', 'O_CREAT', 'O_TRUNC', 'without O_CLOEXEC']);
    t.truthy(origin.madeInheritable, JSON.stringify(origin));
    t.true(['dup2', 'fcntl', 'dup3'].includes(origin.madeInheritable!.syscall), JSON.stringify(origin));
    const call = origin as Call;
    if (unwinder) t.true(call.stack.some((f) => /bash$/.test(f.object)), `a frame in bash itself: ${JSON.stringify(call.stack)}`);
  });
});

linux('a Python program\'s leak names its Python function and line', (t) => {
  withTempDir('fdscan-origins', (dir) => {
    const script = join(dir, 'app.py');
    writeFileSync(script, [
      'import os, subprocess',
      'def leak_it():',
      '    fd = os.open("app.log", os.O_WRONLY | os.O_CREAT, 0o644)',
      '    os.set_inheritable(fd, True)',
      '    return fd',
      'leak_it()',
      'subprocess.run(["/bin/true"], close_fds=False)',
      '',
    ].join('\n'));
    const { code, doc, stderr } = gateJson(['--', python, script], dir);
    t.is(code, 1, stderr);
    const origin = doc.findings.find((f) => f.target === join(dir, 'app.log'))!.origin!;
    t.is(origin.unknown, 'close-on-exec', 'Python opens close-on-exec: no stop at the open');
    const [inner, outer] = origin.madeInheritable!.stack;
    t.like(inner, { function: 'leak_it', file: script, line: 4, object: 'python' });
    t.like(outer, { function: '<module>', file: script, line: 6 });
  });
});

(gcc && unwinder && strace ? test : test.skip)(`the stacks agree with strace -f -k${gcc && unwinder && strace ? '' : ' (skipped: no gcc, unwinder or strace -k)'}`, (t) => {
  withTempDir('fdscan-origins', (dir) => {
    const binary = build(dir);
    const traced = spawnSync('strace', ['-f', '-k', '-e', 'trace=openat,pipe2,fcntl', '-o', join(dir, 'strace.txt'), binary], { cwd: dir, encoding: 'utf8' });
    t.is(traced.status, 0, traced.stderr);
    const strace = readFileSync(join(dir, 'strace.txt'), 'utf8');
    const { doc } = gateJson(['--', binary], dir);
    for (const [fd, call, name] of [[3, '"app.log", O_WRONLY|O_CREAT|O_APPEND', 'open_the_log'], [4, 'pipe2(', 'make_pipe'], [6, 'F_SETFD, 0', 'reinherit']] as const) {
      // strace: `PID openat(...) = 3` then ` > /path/binary(open_the_log+0x1d) [0x1156]` lines.
      const block = strace.split(/\n(?=\d+ )/).find((b) => b.includes(call) && b.includes(`${name}+`))!;
      t.truthy(block, `${name} in strace's output`);
      const frame = new RegExp(`> ${binary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\(${name}\\+0x[0-9a-f]+\\) \\[0x([0-9a-f]+)\\]`).exec(block)!;
      const origin = doc.findings.find((f) => f.fd === fd)!.origin!;
      const ours = (origin.unknown === undefined ? origin : origin.madeInheritable!).stack.find((f) => f.function === name)!;
      t.is(ours.offset, parseInt(frame[1]!, 16), `${name}: the same return address in ${binary}`);
    }
  });
});

withGcc('a daemon that outlives the command still makes inheritable descriptors after it: the filter has its tracer until the end', (t) => {
  withTempDir('fdscan-origins', (dir) => {
    const binary = build(dir);
    // The command exits at once; its daemon waits, then runs the fixture (which leaks by open, pipe, fcntl).
    const script = `(sleep 1; cd ${dir} && ${binary} /bin/true; echo $? > ${join(dir, 'status')}) </dev/null >/dev/null 2>&1 & exit 0`;
    const { code, doc, stderr } = gateJson(['--', 'sh', '-c', script], dir);
    t.is(readFileSync(join(dir, 'status'), 'utf8').trim(), '0', 'the daemon ran its calls as without fdscan (no ENOSYS)');
    t.is(code, 1, stderr);
    t.true(doc.findings.some((f) => f.origin !== undefined && f.origin.unknown === undefined && f.origin.syscall === 'openat'));
  });
});

withGcc('fdscan killed mid-trace (SIGKILL): the filtered tree dies with it, nothing runs on without its tracer', async (t) => {
  await withTempDirAsync(async (dir) => {
    const pidFile = join(dir, 'pid');
    const child = spawn(process.execPath, [fdscanBin, 'gate', '--', 'sh', '-c', `echo $$ > ${pidFile}; exec sleep 60`], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !(existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n')); i++) await sleep(50);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await sleep(200);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    let alive = true;
    for (let i = 0; i < 100 && alive; i++) {
      try { process.kill(pid, 0); await sleep(50); } catch { alive = false; }
    }
    t.false(alive, `pid ${pid} (sleep, filtered) outlived its tracer`);
  });
});

async function withTempDirAsync(body: (dir: string) => Promise<void>): Promise<void> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-origins-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

linux('a hostile path in an origin is escaped in text and kept exact in JSON', (t) => {
  withTempDir('fdscan-origins', (dir) => {
    const name = 'a\x1b[2Jb\nc';
    const script = `exec 5>"$(printf 'a\\033[2Jb\\nc')"; /bin/true`;
    const text = runCli(['gate', '--', 'sh', '-c', script], { cwd: dir }).stderr;
    t.false(text.includes('\x1b'), text);
    t.regex(text, /made by openat\("a\\x1b\[2Jb\\nc", O_WRONLY\|O_CREAT\|O_TRUNC\) without O_CLOEXEC/);
    const { doc } = gateJson(['--', 'sh', '-c', script], dir);
    t.is((doc.findings.find((f) => f.fd === 5)!.origin as Call).path, name);
  });
});

(gcc && unwinder === 'libdw' ? test : test.skip)('a stack is unwound at the stop and named only when OriginIndex returns its origin, the same frames as before', async (t) => {
  await withTempDirAsync(async (dir) => {
    const binary = build(dir);
    const trace = await traceCommand([binary, '/bin/true'], { exitTables: false });
    const leaker = trace.processes.find((p) => (p.origins ?? []).some((r) => r.origin.unknown === undefined && r.origin.stack.some((f) => f.object === binary)));
    t.truthy(leaker, JSON.stringify(trace.processes.map((p) => p.origins)));
    const record = leaker!.origins!.find((r) => r.origin.unknown === undefined && r.origin.stack.some((f) => f.object === binary))!;
    const raw = record.origin.unknown === undefined ? record.origin.stack : [];
    // In the trace as recorded: object and offset, no name yet.
    t.true(raw.filter((f) => f.object === binary).every((f) => f.function === undefined && 'unnamed' in f), JSON.stringify(raw));
    const origin = new OriginIndex(trace).at(leaker!.id, record.fd, record.seq);
    if (origin.unknown !== undefined) return t.fail(JSON.stringify(origin));
    t.true(origin.stack.every((f) => !('unnamed' in f)), JSON.stringify(origin.stack));
    t.true(origin.stack.some((f) => f.object === binary && f.function === 'main' && f.file !== undefined), JSON.stringify(origin.stack));
    t.is(origin.stack.length, raw.length);
  });
});
