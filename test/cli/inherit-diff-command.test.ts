/** `fdscan inherit-diff`, run as a user would: pass-through of bytes, exit statuses and signals. */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { openSync, readFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { runCli } from '../helpers/cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { fdscanBin } from '../helpers/fixture.js';

const linux = process.platform === 'linux' ? test : test.skip;

interface Document {
  schema: string;
  command: string[];
  exitCode: number;
  processes: Array<{ process: number; pid: number; ppid: number; argv: string[]; exe: string; inherited: Array<{ fd: number; target: string; via?: string; ambient?: boolean; from?: { fd: number; match: string } }> }>;
  tree: Array<{ id: number; pid: number }>;
}

/** stdio for spawn: pipes for 0-2, `fd` at child descriptor `at`, nothing in between. */
function stdioWith(at: number, fd: number): Array<'ignore' | 'pipe' | number> {
  return ['ignore', 'pipe', 'pipe', ...Array<'ignore'>(at - 3).fill('ignore'), fd];
}

linux('exit statuses pass through, a signal death as 128+N', (t) => {
  t.is(runCli(['inherit-diff', '--', 'sh', '-c', 'exit 7']).code, 7);
  t.is(runCli(['inherit-diff', '--', 'sh', '-c', 'exit 0']).code, 0);
  t.is(runCli(['inherit-diff', '--', 'sh', '-c', 'kill -TERM $$']).code, 143);
  t.is(runCli(['inherit-diff', '--', 'sh', '-c', 'kill -KILL $$']).code, 137);
  const missing = runCli(['inherit-diff', '--', 'fdscan-no-such-command']);
  t.is(missing.code, 127);
  t.regex(missing.stderr, /command not found: fdscan-no-such-command/);
  t.is(runCli(['inherit-diff']).code, 2);
});

linux('several MB of binary stdin reach stdout byte for byte; the report goes to stderr', (t) => {
  const input = randomBytes(6 * 1024 * 1024);
  const result = spawnSync(process.execPath, [fdscanBin, 'inherit-diff', '--', 'cat'], { input, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
  t.is(result.status, 0);
  t.true(Buffer.compare(result.stdout, input) === 0, `stdout differs: ${result.stdout.length} bytes for ${input.length}`);
  // Beyond 0, 1, 2, cat receives whatever fdscan itself was started with (none on a clean runner).
  t.regex(result.stderr.toString(), /exec cat: received (only 0, 1, 2|0, 1, 2 and ambient [\d, ]+)\n/);
  t.notRegex(result.stderr.toString(), /missing/);
});

linux('--json --output writes the documented document; stdout stays the command\'s', (t) => {
  withTempDir('fdscan-cli', (dir) => {
    const file = join(dir, 'report.json');
    const result = runCli(['inherit-diff', '--json', '--output', file, '--', 'sh', '-c', 'exec 5</etc/hostname; /bin/echo hello; exit 3']);
    t.is(result.code, 3);
    t.is(result.stdout, 'hello\n');
    t.is(result.stderr, '');
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Document;
    t.is(doc.schema, 'fdscan/inherit-diff@1');
    t.deepEqual(doc.command, ['sh', '-c', 'exec 5</etc/hostname; /bin/echo hello; exit 3']);
    t.is(doc.exitCode, 3);
    const echo = doc.processes.find((p) => p.argv[0] === '/bin/echo');
    t.truthy(echo);
    t.is(echo!.ppid, doc.processes[0]!.pid);
    const five = echo!.inherited.find((d) => d.fd === 5);
    t.is(five?.target, '/etc/hostname');
    t.falsy(five?.ambient);
    for (const d of doc.processes[0]!.inherited) t.true(d.ambient, `root fd ${d.fd} came from fdscan`);
  });
});

linux('the text report marks what each exec received beyond 0, 1, 2 and says the ambient descriptors once, at the top', (t) => {
  withTempDir('fdscan-cli', (dir) => {
    // fdscan starts with an extra inheritable descriptor at 40 (Node 20 marks the low ones it
    // inherits close-on-exec at start-up, but not this one).
    const extra = openSync(join(dir, 'ambient.txt'), 'w');
    try {
      const result = spawnSync(process.execPath, [fdscanBin, 'inherit-diff', '--', 'sh', '-c', 'exec 4</etc/hostname; /bin/true'], {
        stdio: [...stdioWith(40, extra)], encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' },
      });
      t.is(result.status, 0, result.stderr);
      const lines = result.stderr.split('\n');
      const trueAt = lines.findIndex((l) => l.includes('exec /bin/true'));
      t.true(trueAt > 0, result.stderr);
      t.regex(lines[trueAt]!, /received 0, 1, 2, ambient (\d+, )*40(, \d+)* and \d+ more$/);
      const rows = lines.slice(trueAt + 1).filter((l) => /^\s+[pa+] fd/.test(l));
      t.true(rows.some((l) => /\+ fd 4 +REG +\/etc\/hostname/.test(l)), result.stderr);
      // Said once, before the tree, with how many execs received it (sh and /bin/true).
      const ambient = lines.filter((l) => l.includes('a fd 40 '));
      t.is(ambient.length, 1, result.stderr);
      t.regex(ambient[0]!, /^ {2}a fd 40 +REG +\S+ambient\.txt {2}received by 2 execs$/);
      t.true(lines.indexOf(ambient[0]!) < lines.findIndex((l) => l.startsWith('pid ')), result.stderr);
    } finally {
      closeSync(extra);
    }
  });
});

linux('two opens of one file are told apart: the tree reopening an ambient file is blamed on the tree', (t) => {
  // fdscan starts with /etc/hostname at 40 and 41 (two opens). The tree reopens it at 40 and 43 and
  // dups 41 to 44: device+inode alone would call all of them ambient; kcmp tells them apart.
  const first = openSync('/etc/hostname', 'r');
  const second = openSync('/etc/hostname', 'r');
  try {
    const script = 'exec 40</etc/hostname 43</etc/hostname 44<&41; exec /bin/true';
    const result = spawnSync(process.execPath, [fdscanBin, 'inherit-diff', '--json', '--', 'bash', '-c', script], {
      stdio: [...stdioWith(40, first), second], encoding: 'utf8',
    });
    t.is(result.status, 0, result.stderr);
    const doc = JSON.parse(result.stderr) as Document;
    const execs = doc.processes.filter((p) => p.argv[0] === '/bin/true');
    t.is(execs.length, 1, result.stderr);
    const at = (fd: number) => execs[0]!.inherited.find((d) => d.fd === fd);
    t.like(at(40), { target: '/etc/hostname', via: 'self' });
    t.falsy(at(40)?.ambient);
    t.like(at(43), { target: '/etc/hostname', via: 'self' });
    t.falsy(at(43)?.ambient);
    t.like(at(41), { ambient: true, from: { fd: 41, match: 'kcmp' } });
    t.like(at(44), { ambient: true, from: { fd: 41, match: 'kcmp' } });
  } finally {
    closeSync(first);
    closeSync(second);
  }
});

/** Start fdscan inherit-diff on a tree that prints `ready` once its traps are set; resolves with its stdout and status. */
async function signalTree(signal: NodeJS.Signals): Promise<{ code: number | null; stdout: string }> {
  // The inner shell exits 9 on the signal; the outer one only notes it got the signal too: so
  // "inner 9" proves the grandchild received the signal itself.
  const script = `trap 'echo outer-got-signal' ${signal.slice(3)}; sh -c 'trap "exit 9" ${signal.slice(3)}; echo ready; while :; do sleep 0.05; done'; echo "inner $?"; exit 5`;
  const child = spawn(process.execPath, [fdscanBin, 'inherit-diff', '--', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve) => lines.on('line', (line) => {
    stdout += `${line}\n`;
    if (line === 'ready') resolve();
  }));
  child.kill(signal);
  const code = await exited;
  return { code, stdout };
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  linux(`${signal} sent to fdscan reaches every process of the tree`, async (t) => {
    const { code, stdout } = await signalTree(signal);
    t.regex(stdout, /inner 9/);
    t.regex(stdout, /outer-got-signal/);
    t.is(code, 5);
  });
}

linux('leaves no zombie, stopped or traced process behind', (t) => {
  withTempDir('fdscan-cli', (dir) => {
    const file = join(dir, 'report.json');
    // No orphans: this machine's init may be slow to reap them, which is not fdscan's doing.
    const result = runCli(['inherit-diff', '--json', '-o', file, '--', 'sh', '-c', '/bin/true & sh -c "sleep 0.1" & (/bin/true); wait']);
    t.is(result.code, 0);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Document;
    t.true(doc.tree.length >= 4);
    for (const { pid } of doc.tree) {
      let status: string;
      try {
        status = readFileSync(`/proc/${pid}/status`, 'utf8');
      } catch {
        continue; // gone, as it should be
      }
      t.notRegex(status, /^State:\s+[ZTt]/m, `pid ${pid} left ${/^State:.*$/m.exec(status)?.[0]}`);
      t.regex(status, /^TracerPid:\s+0$/m, `pid ${pid} still traced`);
    }
  });
});

linux('PARENT_PID CHILD_PID: the child\'s copies of the parent\'s descriptors, confirmed by kcmp', async (t) => {
  const file = openSync('/etc/hostname', 'r');
  const child = spawn('sleep', ['30'], { stdio: ['ignore', 'ignore', 'ignore', file] });
  try {
    await new Promise((resolve) => child.once('spawn', resolve));
    const result = runCli(['inherit-diff', String(process.pid), String(child.pid), '--json']);
    t.is(result.code, 0, result.stderr);
    const diff = JSON.parse(result.stdout) as { shared: Array<{ fd: number; parentFd: number; match: string }> };
    t.deepEqual(diff.shared.find((d) => d.fd === 3), { ...diff.shared.find((d) => d.fd === 3)!, parentFd: file, match: 'kcmp' });
    const text = runCli(['inherit-diff', String(process.pid), String(child.pid)]);
    t.regex(text.stdout, new RegExp(`fd 3 +REG +/etc/hostname +<- parent fd ${file}, same open file description \\(kcmp\\)`));
  } finally {
    child.kill('SIGKILL');
    closeSync(file);
  }
});

linux('inherit-diff --only-extra shows only the execs that received more than 0, 1, 2 and the ambient ones', (t) => {
  const command = ['sh', '-c', '/bin/true first; exec 4</etc/hostname; exec /bin/true second'];
  const all = runCli(['inherit-diff', '--', ...command]);
  t.is(all.code, 0, all.stderr);
  t.regex(all.stderr, /exec \/bin\/true first: received /);
  t.regex(all.stderr, /exec \/bin\/true second: received /);
  const extra = runCli(['inherit-diff', '--only-extra', '--', ...command]);
  t.is(extra.code, 0, extra.stderr);
  t.notRegex(extra.stderr, /exec \/bin\/true first/);
  t.notRegex(extra.stderr, /exec sh -c/);
  t.regex(extra.stderr, /exec \/bin\/true second: received 0, 1, 2(, ambient [\d, ]+)? and 1 more\n\s+\+ fd 4 +REG +\/etc\/hostname/);
  const json = JSON.parse(runCli(['inherit-diff', '--only-extra', '--json', '--', ...command]).stderr) as { processes: Array<{ argv: string[] }>; tree: unknown[] };
  t.deepEqual(json.processes.map((p) => p.argv), [['/bin/true', 'second']]);
  t.is(json.tree.length, 2, 'the tree stays whole');
});
