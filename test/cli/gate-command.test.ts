/** `fdscan gate`, run as a user would, on Python programs that leak and ones that do not. */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout } from 'node:timers/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { fdscanBin, fixturesDir } from '../helpers/fixture.js';

const linux = process.platform === 'linux' ? test : test.skip;

/** The Python interpreter itself, not pyenv's shell shim, so the fixture is the root of the tree. */
const python = process.platform === 'linux'
  ? spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim()
  : 'python3';

interface GateDocument {
  schema: string;
  passed: boolean;
  exitCode: number;
  findings: Array<{ kind: string; fd?: number; target?: string; receivers?: Array<{ pid: number; argv: string[]; fd: number }>; opener?: { pid: number; argv: string[] };
    held?: number[]; leakedPerCycle?: number[]; descriptors?: Array<{ fd: number; target: string }>; fix: { language: string; text: string } }>;
  allowed: Array<{ fd: number; spec: string; receivers: unknown[] }>;
  ambient: Array<{ fd: number; target: string }>;
}

linux('a log file leaked to a shell and its short-lived child fails the gate with 1: one finding naming file, opener and both receivers', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const log = join(dir, 'app.log');
    const result = runCli(['gate', '--', python, join(fixturesDir, 'leak-log-to-grandchild.py'), dir, 'leak']);
    t.is(result.code, 1, result.stderr);
    t.regex(result.stderr, /fdscan gate: 1 finding \(/);
    const lines = result.stderr.split('\n');
    const at = lines.findIndex((l) => l === `  leak  fd 3 REG ${log}`);
    t.true(at > 0, result.stderr);
    // The opener's argv is cut to a bounded width: the temp dir and mode may not fit.
    t.regex(lines[at + 1]!, /^ {8}opened by \S+ \S+leak-log-to-grandchild\.py .*\(pid \d+\)$/);
    // Its origin: Python opens close-on-exec (no stop), os.set_inheritable clears it with FIONCLEX, at line 11.
    t.is(lines[at + 2], '        made: close-on-exec (by a call asking for close-on-exec, which is not stopped)');
    t.is(lines[at + 3], '        made inheritable by ioctl(FIONCLEX) -> fd 3');
    t.is(lines[at + 4], '          at <module> (leak-log-to-grandchild.py:11)');
    t.regex(lines[at + 5]!, /^ {8}leaked to 2 execs: sh -c \/bin\/true \(pid \d+\), \/bin\/true \(pid \d+\)$/);
    t.regex(lines[at + 6]!, /^ {8}fix: Python: os\.set_inheritable\(3, False\).*close_fds=True/);
  });
});

linux('--json -o, --junit: the documented documents, stdout untouched', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const json = join(dir, 'gate.json');
    const junit = join(dir, 'gate.xml');
    const result = runCli(['gate', '--json', '-o', json, '--junit', junit, '--', python, join(fixturesDir, 'leak-log-to-grandchild.py'), dir, 'leak']);
    t.is(result.code, 1, result.stderr);
    t.is(result.stdout, '');
    const doc = JSON.parse(readFileSync(json, 'utf8')) as GateDocument;
    t.is(doc.schema, 'fdscan/gate@2');
    t.false(doc.passed);
    t.is(doc.findings.length, 1);
    const [f] = doc.findings;
    t.is(f!.kind, 'inherited');
    t.is(f!.target, join(dir, 'app.log'));
    t.is(f!.opener!.argv[0], python);
    t.deepEqual(f!.receivers!.map((r) => [r.argv.join(' '), r.fd]), [['sh -c /bin/true', 3], ['/bin/true', 3]]);
    t.is(f!.fix.language, 'python');
    const xml = readFileSync(junit, 'utf8');
    t.is(xml.match(/<testcase /g)?.length, 1);
    t.is(xml.match(/<failure /g)?.length, 1);
    t.true(xml.includes('app.log'));
  });
});

linux('GitHub Actions annotations when GITHUB_ACTIONS=true', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const result = runCli(['gate', '--', python, join(fixturesDir, 'leak-log-to-grandchild.py'), dir, 'leak'], { env: { GITHUB_ACTIONS: 'true' } });
    t.is(result.code, 1);
    t.is(result.stderr.split('\n').filter((l) => l.startsWith('::error title=fdscan gate::fd 3 REG')).length, 1, result.stderr);
    t.false(runCli(['gate', '--', python, join(fixturesDir, 'leak-log-to-grandchild.py'), dir, 'leak'], { env: { GITHUB_ACTIONS: undefined } }).stderr.includes('::error'));
  });
});

linux('the same program without the leak passes', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const junit = join(dir, 'gate.xml');
    const result = runCli(['gate', '--junit', junit, '--', python, join(fixturesDir, 'leak-log-to-grandchild.py'), dir, 'clean']);
    t.is(result.code, 0, result.stderr);
    t.regex(result.stderr, /fdscan gate: passed/);
    t.notRegex(result.stderr, /leak /);
    const xml = readFileSync(junit, 'utf8');
    t.is(xml.match(/<testcase /g)?.length, 1);
    t.false(xml.includes('<failure'));
  });
});

linux('--allow by path glob, type or fd number, and the config files, let the leak through', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const args = ['--', python, join(fixturesDir, 'leak-log-to-grandchild.py'), dir, 'leak'];
    for (const spec of [`${dir}/*.log`, '**/app.log', 'REG', '3', 'fd:3', 'path:**/app.?og']) {
      const result = runCli(['gate', '--allow', spec, ...args]);
      t.is(result.code, 0, `${spec}: ${result.stderr}`);
      t.regex(result.stderr, new RegExp(`allowed \\(${spec.replace(/[*?.]/g, '\\$&')}\\)`));
    }
    for (const spec of ['/other/*.log', 'SOCK', '4']) t.is(runCli(['gate', '--allow', spec, ...args]).code, 1, spec);
    writeFileSync(join(dir, 'fdscan.config.json'), JSON.stringify({ allow: ['**/*.log'] }));
    t.is(runCli(['gate', ...args], { cwd: dir }).code, 0);
    rmSync(join(dir, 'fdscan.config.json'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', fdscan: { allow: ['REG'] } }));
    t.is(runCli(['gate', ...args], { cwd: dir }).code, 0);
    t.is(runCli(['gate', ...args]).code, 1);
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ allow: [3] }));
    t.is(runCli(['gate', '--config', join(dir, 'other.json'), ...args]).code, 0);
  });
});

linux("the command's own failure passes through; usage errors are 2", (t) => {
  t.is(runCli(['gate', '--', 'sh', '-c', 'exit 7']).code, 7);
  t.is(runCli(['gate', '--', 'sh', '-c', 'kill -TERM $$']).code, 143);
  t.is(runCli(['gate', '--', 'fdscan-no-such-command']).code, 127);
  t.is(runCli(['gate']).code, 2);
  t.is(runCli(['gate', '--config', '/nonexistent/fdscan.json', '--', 'true']).code, 2);
});

linux('a self-re-executing reloader that reopens its log fails with the growth per cycle', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const json = join(dir, 'gate.json');
    const text = runCli(['gate', '--', python, join(fixturesDir, 'self-reloader.py'), dir]);
    t.is(text.code, 1, text.stderr);
    t.regex(text.stderr, /re-executed itself 4 times, holding 0 → 1 → 2 → 3 → 4 descriptors beyond stdin, stdout and stderr: leaked \[1, 1, 1, 1\] file descriptors per cycle/);
    t.true(text.stderr.includes(`fd 3, 4, 5, 6 REG ${join(dir, 'reloader.log')}`), text.stderr);
    t.regex(text.stderr, /fix: Python: .*markAllCloseOnExec\(\).*fdscan run --close-fds/);
    t.is(runCli(['gate', '--json', '-o', json, '--', python, join(fixturesDir, 'self-reloader.py'), dir]).code, 1);
    const doc = JSON.parse(readFileSync(json, 'utf8')) as GateDocument;
    t.is(doc.findings.length, 1);
    const [growth] = doc.findings;
    t.is(growth!.kind, 'reexec-growth');
    t.deepEqual(growth!.held, [0, 1, 2, 3, 4]);
    t.deepEqual(growth!.leakedPerCycle, [1, 1, 1, 1]);
    t.deepEqual(growth!.descriptors!.map((d) => d.target), Array(4).fill(join(dir, 'reloader.log')));
  });
});

linux("a descriptor fdscan itself received is reported as ambient, never blamed", (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const extra = openSync(join(dir, 'ambient.txt'), 'w');
    try {
      // At index 40: Node marks the low descriptors it inherits close-on-exec at start-up, not this one.
      const stdio = ['ignore', 'pipe', 'pipe', ...Array<'ignore'>(37).fill('ignore'), extra] as const;
      const result = spawnSync(process.execPath, [fdscanBin, 'gate', '--', python, join(fixturesDir, 'leak-log-to-grandchild.py'), dir, 'clean'], {
        stdio: [...stdio], encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' },
      });
      t.is(result.status, 0, result.stderr);
      t.regex(result.stderr, /fdscan gate: passed/);
      t.regex(result.stderr, /ambient {2}fd 40 REG \S+ambient\.txt: fdscan received it/);
    } finally {
      closeSync(extra);
    }
  });
});

linux("the opener is named by the program that opened the file, and 'before it exec'd' names what the same process ran when it leaked (execdSince)", (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const log = join(dir, 'opened-before-exec.log');
    // The shell opens fd 7, then becomes /bin/sleep, which receives it: one process, two programs.
    const execd = runCli(['gate', '--', 'sh', '-c', 'exec 7>"$1"; exec /bin/sleep 0', 'sh', log]);
    t.is(execd.code, 1, execd.stderr);
    t.regex(execd.stderr, /^ {8}opened by sh -c 'exec 7>"\$1"; exec \/bin\/sleep 0' sh \S+opened-before-exec\.log \(pid \d+, before it exec'd \/bin\/sleep 0\)$/m);
    const json = join(dir, 'gate.json');
    t.is(runCli(['gate', '--json', '-o', json, '--', 'sh', '-c', 'exec 7>"$1"; exec /bin/sleep 0', 'sh', log]).code, 1);
    const [finding] = (JSON.parse(readFileSync(json, 'utf8')) as { findings: Array<{ opener: { argv: string[]; exe: string; execdSince?: string[] } }> }).findings;
    t.is(finding!.opener.argv[0], 'sh');
    t.deepEqual(finding!.opener.execdSince, ['/bin/sleep', '0']);
    // A shell that opens fd 7 and stays a shell while its child receives it: no 'before it exec'd'.
    t.is(runCli(['gate', '--json', '-o', json, '--', 'sh', '-c', 'exec 7>"$1"; /bin/sleep 0; true', 'sh', log]).code, 1);
    const [stayed] = (JSON.parse(readFileSync(json, 'utf8')) as { findings: Array<{ opener: { argv: string[]; execdSince?: string[] } }> }).findings;
    t.is(stayed!.opener.argv[0], 'sh');
    t.is(stayed!.opener.execdSince, undefined);
  });
});

/** State (R, S, T, t, Z...) and start time of a process from /proc/PID/stat; undefined once it is gone. */
function processStat(pid: number): { state: string; ppid: number; start: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, ppid: Number(fields[1]), start: fields[19]! };
  } catch {
    return undefined;
  }
}

/** /proc/PID/comm, or undefined once the process is gone. */
function commOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'latin1');
  } catch {
    return undefined;
  }
}

/** Pids whose parent is `ppid`. */
function childrenOf(ppid: number): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => processStat(pid)?.ppid === ppid);
}

linux('SIGKILL to fdscan mid-trace leaves no process of the tree running or stopped (PTRACE_O_EXITKILL)', async (t) => {
  const gate = spawn(process.execPath, [fdscanBin, 'gate', '--', 'sh', '-c', '/bin/sleep 300 & /bin/sleep 300 & wait'], { stdio: 'ignore' });
  let started: Array<{ pid: number; start: string }> = [];
  const running = () => started.filter(({ pid, start }) => {
    const now = processStat(pid);
    return now !== undefined && now.start === start && now.state !== 'Z';
  });
  try {
    // The tree: the shell (fdscan's child) and its two sleeps, once both have exec'd sleep.
    let tree: number[] = [];
    for (let tries = 0; tries < 600; tries++) {
      const shells = childrenOf(gate.pid!);
      const sleeps = shells.flatMap(childrenOf).filter((pid) => commOf(pid) === 'sleep\n');
      if (shells.length === 1 && sleeps.length === 2) {
        tree = [...shells, ...sleeps];
        break;
      }
      await setTimeout(50);
    }
    t.is(tree.length, 3, 'the traced tree started');
    started = tree.map((pid) => ({ pid, start: processStat(pid)!.start }));
    gate.kill('SIGKILL');
    // Each of them, by pid and start time (a reused pid is another process): gone, or a zombie.
    for (let tries = 0; tries < 200 && running().length > 0; tries++) await setTimeout(50);
    t.deepEqual(running().map(({ pid }) => `${pid} ${processStat(pid)?.state}`), []);
  } finally {
    gate.kill('SIGKILL');
    for (const { pid } of running()) process.kill(pid, 'SIGKILL');
  }
});

const withCc = process.platform === 'linux' && spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0 ? test : test.skip;

withCc('processes sharing one descriptor table (clone CLONE_FILES): the file is named as opened by the table\'s maker or its sharer, whichever of them opened it and whichever execs', (t) => {
  withTempDir('fdscan-gate', (dir) => {
    const program = join(dir, 'clone-files');
    const built = spawnSync('cc', ['-o', program, join(fixturesDir, 'clone-files.c')], { encoding: 'utf8' });
    t.is(built.status, 0, built.stderr);
    const log = join(dir, 'shared.log');
    const json = join(dir, 'gate.json');
    for (const mode of ['parent-opens', 'child-opens']) {
      const text = runCli(['gate', '--', program, mode, log]);
      t.is(text.code, 1, text.stderr);
      const [parent, child] = text.stdout.trim().split('\n').map(Number);
      // The parent made the shared table: it is named first; the child execs (parent-opens) or the parent does.
      const execd = mode === 'child-opens' ? ", before it exec'd true" : '';
      t.true(text.stderr.includes(`opened by ${program} ${mode} ${log} (pid ${parent}${execd}; or pid ${child}, which shared its descriptor table)`), text.stderr);
      const result = runCli(['gate', '--json', '-o', json, '--', program, mode, log]);
      t.is(result.code, 1, result.stderr);
      const [again, sharer] = result.stdout.trim().split('\n').map(Number);
      const [finding] = (JSON.parse(readFileSync(json, 'utf8')) as { findings: Array<{ opener: { pid: number; sharedTable?: number[] }; receivers: Array<{ pid: number }> }> }).findings;
      t.is(finding!.opener.pid, again!, mode);
      t.deepEqual(finding!.opener.sharedTable, [sharer!], mode);
      t.deepEqual(finding!.receivers.map((r) => r.pid), [mode === 'child-opens' ? again! : sharer!], mode);
    }
  });
});
