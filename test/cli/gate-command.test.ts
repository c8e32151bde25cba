/** `fdscan gate`, run as a user would, on Python programs that leak and ones that do not. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
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
  findings: Array<{ kind: string; fd?: number; target?: string; receiver?: { pid: number; argv: string[] }; opener?: { pid: number; argv: string[] };
    held?: number[]; leakedPerCycle?: number[]; descriptors?: Array<{ fd: number; target: string }> }>;
  allowed: Array<{ fd: number; spec: string }>;
  ambient: Array<{ fd: number; target: string }>;
}

function withTempDir<T>(body: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-gate-'));
  try {
    return body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

linux('a log file leaked to a shell and its short-lived child fails the gate with 1, naming file and receivers', (t) => {
  withTempDir((dir) => {
    const log = join(dir, 'app.log');
    const result = runCli(['gate', '--', python, join(fixturesDir, 'leak-log-to-grandchild.py'), dir, 'leak']);
    t.is(result.code, 1, result.stderr);
    t.regex(result.stderr, /fdscan gate: 2 findings/);
    const leaks = result.stderr.split('\n').filter((l) => l.includes('leak  fd 3 REG'));
    t.is(leaks.length, 2, result.stderr);
    t.true(leaks.some((l) => l.includes(`${log} leaked to sh -c /bin/true (pid`)), result.stderr);
    t.true(leaks.some((l) => l.includes(`${log} leaked to /bin/true (pid`)), result.stderr);
    for (const l of leaks) t.regex(l, /opened by \S+ \S+leak-log-to-grandchild\.py .* leak \(pid \d+\)$/);
  });
});

linux('--json -o, --junit: the documented documents, stdout untouched', (t) => {
  withTempDir((dir) => {
    const json = join(dir, 'gate.json');
    const junit = join(dir, 'gate.xml');
    const result = runCli(['gate', '--json', '-o', json, '--junit', junit, '--', python, join(fixturesDir, 'leak-log-to-grandchild.py'), dir, 'leak']);
    t.is(result.code, 1, result.stderr);
    t.is(result.stdout, '');
    const doc = JSON.parse(readFileSync(json, 'utf8')) as GateDocument;
    t.is(doc.schema, 'fdscan/gate@1');
    t.false(doc.passed);
    t.is(doc.findings.length, 2);
    const receivers = doc.findings.map((f) => f.receiver!.argv.join(' ')).sort();
    t.deepEqual(receivers, ['/bin/true', 'sh -c /bin/true']);
    for (const f of doc.findings) {
      t.is(f.kind, 'inherited');
      t.is(f.target, join(dir, 'app.log'));
      t.is(f.opener!.argv[0], python);
    }
    const xml = readFileSync(junit, 'utf8');
    t.is(xml.match(/<testcase /g)?.length, 2);
    t.is(xml.match(/<failure /g)?.length, 2);
    t.true(xml.includes('app.log'));
  });
});

linux('GitHub Actions annotations when GITHUB_ACTIONS=true', (t) => {
  withTempDir((dir) => {
    const result = runCli(['gate', '--', python, join(fixturesDir, 'leak-log-to-grandchild.py'), dir, 'leak'], { env: { GITHUB_ACTIONS: 'true' } });
    t.is(result.code, 1);
    t.is(result.stderr.split('\n').filter((l) => l.startsWith('::error title=fdscan gate::fd 3 REG')).length, 2, result.stderr);
    t.false(runCli(['gate', '--', python, join(fixturesDir, 'leak-log-to-grandchild.py'), dir, 'leak'], { env: { GITHUB_ACTIONS: undefined } }).stderr.includes('::error'));
  });
});

linux('the same program without the leak passes', (t) => {
  withTempDir((dir) => {
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
  withTempDir((dir) => {
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
  withTempDir((dir) => {
    const json = join(dir, 'gate.json');
    const text = runCli(['gate', '--', python, join(fixturesDir, 'self-reloader.py'), dir]);
    t.is(text.code, 1, text.stderr);
    t.regex(text.stderr, /re-executed itself 4 times; descriptors held at each exec: 0 → 1 → 2 → 3 → 4; leaked \[1, 1, 1, 1\] file descriptors per cycle/);
    t.true(text.stderr.includes(join(dir, 'reloader.log')));
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
  withTempDir((dir) => {
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
