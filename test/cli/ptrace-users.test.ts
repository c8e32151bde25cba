/**
 * Programs that use ptrace under the gate (strace, gdb, a PTRACE_TRACEME), and fdscan itself run
 * under a tracer: real programs, real tracers.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { fdscanBin, fixturesDir } from '../helpers/fixture.js';

const linux = process.platform === 'linux';
const has = (command: string, args: string[]): boolean => linux && spawnSync(command, args, { stdio: 'ignore' }).status === 0;
const withCc = has('cc', ['--version']) ? test : test.skip;
const withStrace = has('strace', ['-V']) ? test : test.skip;
const withGdb = has('gdb', ['--version']) ? test : test.skip;

/** The last line of stderr. */
const lastLine = (stderr: string): string => stderr.trimEnd().split('\n').at(-1)!;

/** Compile test/fixtures/traceme.c into `dir`. */
function buildTraceme(dir: string): string {
  const program = join(dir, 'traceme');
  const built = spawnSync('cc', ['-o', program, join(fixturesDir, 'traceme.c')], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`cc failed: ${built.stderr}`);
  return program;
}

withCc('a C program calling ptrace(PTRACE_TRACEME): the gate ends with one line naming it and that fdscan is its tracer, exit 2, nothing left stopped', (t) => {
  withTempDir('fdscan-traceme', (dir) => {
    const program = buildTraceme(dir);
    const result = runCli(['gate', '--', program], { timeout: 60_000 });
    t.is(result.code, 2, result.stderr);
    t.regex(result.stderr, /^traceme: Operation not permitted$/m);
    const pid = Number(result.stdout.trim());
    t.is(lastLine(result.stderr),
      `fdscan: ${program} (pid ${pid}) cannot run under the gate: its ptrace(PTRACE_TRACEME) failed with EPERM because fdscan is its tracer (--allow-ptrace: judge the rest anyway)`);
    t.false(existsSync(`/proc/${pid}`), 'the program has exited and was reaped');
  });
});

withCc('the refusal is the gate\'s one outcome: JSON says passed false, exit status 2 and the ptrace reason; --allow-ptrace lets it through, reported', (t) => {
  withTempDir('fdscan-traceme', (dir) => {
    const program = buildTraceme(dir);
    const report = join(dir, 'report.json');
    const refused = runCli(['gate', '--json', '-o', report, '--', program], { timeout: 60_000 });
    t.is(refused.code, 2, refused.stderr);
    const document = JSON.parse(readFileSync(report, 'utf8'));
    t.false(document.passed);
    t.is(document.exitStatus, 2);
    t.like(document.reasons[0], { kind: 'ptrace', fails: true, exitStatus: 2 });
    const allowed = runCli(['gate', '--allow-ptrace', '--json', '-o', report, '--', program], { timeout: 60_000 });
    t.is(allowed.code, 3, allowed.stderr);
    t.like(JSON.parse(readFileSync(report, 'utf8')).reasons[0], { kind: 'ptrace', fails: false, allowedBy: '--allow-ptrace' });
  });
});

withCc('--allow-ptrace: the gate judges the tree, warns that the ptrace call failed, and passes on CMD\'s own status', (t) => {
  withTempDir('fdscan-traceme', (dir) => {
    const program = buildTraceme(dir);
    const result = runCli(['gate', '--allow-ptrace', '--', program], { timeout: 60_000 });
    t.is(result.code, 3, result.stderr);
    t.regex(result.stderr, /^fdscan gate: passed \(1 process, exit status 3\)$/m);
    t.regex(result.stderr, /^warning: pid \d+ \(.*\/traceme\): ptrace\(PTRACE_TRACEME\) failed with EPERM: fdscan is its tracer$/m);
  });
});

const staticCc = has('sh', ['-c', 'echo "int main(void) { return 0; }" | cc -static -x c -o /dev/null -']);

(staticCc ? test : test.skip)(`a statically linked program's PTRACE_TRACEME is seen through the origins filter (it imports nothing); not with --no-origins${staticCc ? '' : ' (skipped: no static C library)'}`, (t) => {
  withTempDir('fdscan-traceme', (dir) => {
    const program = join(dir, 'static-traceme');
    const built = spawnSync('cc', ['-static', '-o', program, join(fixturesDir, 'traceme.c')], { encoding: 'utf8' });
    t.is(built.status, 0, built.stderr);
    const seen = runCli(['gate', '--allow-ptrace', '--', program], { timeout: 60_000 });
    t.is(seen.code, 3, seen.stderr);
    t.regex(seen.stderr, /^warning: pid \d+ \(.*\/static-traceme\): ptrace\(PTRACE_TRACEME\) failed with EPERM: fdscan is its tracer$/m);
    const unseen = runCli(['gate', '--allow-ptrace', '--no-origins', '--', program], { timeout: 60_000 });
    t.is(unseen.code, 3, unseen.stderr);
    t.notRegex(unseen.stderr, /PTRACE_TRACEME/, 'without the filter only programs importing ptrace are watched');
  });
});

withStrace('strace true under the gate: its PTRACE_SEIZE of its own child is refused, one last line, exit 2', (t) => {
  const result = runCli(['gate', '--', 'strace', '-o', '/dev/null', 'true'], { timeout: 60_000 });
  t.is(result.code, 2, result.stderr);
  t.regex(lastLine(result.stderr), /^fdscan: strace -o \/dev\/null true \(pid \d+\) cannot run under the gate: its ptrace\(PTRACE_(SEIZE, \d+|TRACEME)\) failed with EPERM because fdscan is (the tracer of pid \d+|its tracer)( \(and \d+ more process(es)?\))? \(--allow-ptrace: judge the rest anyway\)$/);
});

withGdb('gdb -batch -ex run --args true under the gate: the forked child\'s PTRACE_TRACEME is refused, one last line, exit 2', (t) => {
  const result = runCli(['gate', '--', 'gdb', '-nx', '-batch', '-ex', 'run', '--args', 'true'], { timeout: 120_000 });
  t.is(result.code, 2, result.stderr);
  t.regex(lastLine(result.stderr), /^fdscan: gdb -nx -batch -ex run --args true \(pid \d+\) cannot run under the gate: its ptrace\(PTRACE_TRACEME\) failed with EPERM because fdscan is its tracer \(--allow-ptrace: judge the rest anyway\)$/);
});

withStrace('a program that imports ptrace but does not call it (strace -V) passes the gate: fdscan tells a call from an import', (t) => {
  const result = runCli(['gate', '--', 'strace', '-V'], { timeout: 60_000 });
  t.is(result.code, 0, result.stderr);
  t.regex(result.stderr, /^fdscan gate: passed/m);
  t.notRegex(result.stderr, /ptrace/);
});

withStrace('fdscan run under strace -f: ptrace is refused, and the warning names the tracer instead of blaming yama or a sandbox', (t) => {
  const result = spawnSync('strace', ['-f', '-o', '/dev/null', process.execPath, fdscanBin, 'gate', '--allow-unverified', '--', 'true'], {
    encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' },
  });
  t.is(result.status, 0, result.stderr);
  const match = /^warning: ptrace refused \(EPERM: fdscan is being traced by (\d+) \(strace\), which also traces the command it starts\); sampling/m.exec(result.stderr);
  t.truthy(match, result.stderr);
  t.notRegex(result.stderr, /yama|sandbox/);
});
