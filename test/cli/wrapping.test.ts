/**
 * Wrapping is transparent: CMD receives what fdscan's caller gave (3-15 included, although Node
 * marks them close-on-exec at start-up), signals sent to fdscan reach CMD and never open Node's
 * inspector, and report files are checked before CMD runs.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fdscanBin } from '../helpers/fixture.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { freePort } from '../helpers/free-port.js';

const linux = process.platform === 'linux' ? test : test.skip;
const env = { ...process.env, NODE: process.execPath, FDSCAN: fdscanBin, NO_COLOR: '1' };

/** Run a bash script with $NODE and $FDSCAN set. */
function bash(script: string, options: { cwd?: string; timeout?: number } = {}): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('/bin/bash', ['-c', script], { encoding: 'utf8', env, timeout: options.timeout ?? 60_000, cwd: options.cwd });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

for (const wrapper of ['run', 'gate', 'inherit-diff']) {
  linux(`fdscan ${wrapper}: CMD receives 7, 12 and 20 that fdscan received (Node marked 7 and 12 close-on-exec)`, (t) => withTempDir('fdscan-wrap', (dir) => {
    const file = join(dir, 'f');
    writeFileSync(file, 'x');
    const listing = join(dir, 'fds');
    // CMD writes the list of its own descriptors (a shell's, so nothing of ls's own is counted).
    const result = bash(`exec 7<"${file}" 12<"${file}" 20<"${file}"; "$NODE" "$FDSCAN" ${wrapper} -- sh -c 'ls /proc/$$/fd > "$1"' sh "${listing}"`);
    t.true(result.code === 0, result.stderr);
    const fds = spawnSync('cat', [listing], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
    for (const fd of [7, 12, 20]) t.true(fds.includes(fd), `${wrapper}: fd ${fd} reached CMD (${fds.join(',')})`);
  }));
}

linux('make -j4 with a rule `+fdscan run -- $(MAKE) -C sub`: the jobserver reaches the sub-make, no warning', (t) => withTempDir('fdscan-wrap', (dir) => {
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'Makefile'), 'all:\n\t+"$(NODE)" "$(FDSCAN)" run -- $(MAKE) -C sub\n');
  writeFileSync(join(dir, 'sub', 'Makefile'), 'all: a b c d\na b c d:\n\t@sleep 0.1\n');
  const result = bash('make -j4 2>&1', { cwd: dir });
  t.is(result.code, 0, result.stdout);
  t.notRegex(result.stdout, /jobserver unavailable|using -j1/, result.stdout);
}));

linux('a service started by systemd-socket-activate through fdscan run accepts a connection on LISTEN_FDS fd 3', async (t) => {
  const activate = ['/usr/bin/systemd-socket-activate', '/lib/systemd/systemd-socket-activate'].find((p) => existsSync(p));
  if (!activate) { t.fail('systemd-socket-activate is not installed (Debian package systemd; .ci/run installs it)'); return; }
  const port = await freePort();
  const service = 'import socket,sys\ns=socket.socket(fileno=3)\nc,_=s.accept()\nc.sendall(b"hello from fd 3\\n")\nc.close()\n';
  const child = spawn(activate, ['-l', `127.0.0.1:${port}`, process.execPath, fdscanBin, 'run', '--', 'python3', '-c', service], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => { stderr += String(chunk); });
  try {
    const reply = await retry(() => request(port), 50);
    t.is(reply, 'hello from fd 3\n', stderr);
  } finally {
    child.kill();
  }
});

linux('SIGUSR1 sent to fdscan reaches CMD, and fdscan never opens an inspector port', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-wrap-'));
  const mark = join(dir, 'got-usr1');
  const child = spawn(process.execPath, [fdscanBin, 'run', '--', 'sh', '-c', `trap 'echo usr1 > "${mark}"; exit 0' USR1; while :; do sleep 0.05; done`], { stdio: 'ignore' });
  try {
    // Wait until CMD has set its trap: its shell is then sleeping in the loop.
    await retry(async () => { if (!spawnSync('pgrep', ['-f', '^sleep 0.05$']).stdout.length) throw new Error('no loop yet'); }, 100);
    child.kill('SIGUSR1');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    t.is(code, 0);
    t.true(existsSync(mark), 'CMD got SIGUSR1');
    const listening = spawnSync('ss', ['-ltnp'], { encoding: 'utf8' }).stdout;
    t.notRegex(listening, new RegExp(`pid=${child.pid}\\b`), 'fdscan listens on no port');
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

linux('gate -o DIR, --junit in a place that cannot be written: exit 2 at once, CMD not started, no stack trace', (t) => withTempDir('fdscan-wrap', (dir) => {
  const marker = join(dir, 'ran');
  for (const args of [['-o', dir], ['--junit', '/proc/1/no-such-dir/x.xml'], ['--config', join(dir, 'missing.json')]]) {
    const result = bash(`"$NODE" "$FDSCAN" gate ${args.map((a) => `'${a}'`).join(' ')} -- touch "${marker}"`);
    t.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    t.regex(result.stderr, /^fdscan: [^\n]+\n$/);
    t.false(existsSync(marker), `${args.join(' ')}: CMD was not started`);
  }
  const inheritDiff = bash(`"$NODE" "$FDSCAN" inherit-diff -o "${dir}" -- touch "${marker}"`);
  t.is(inheritDiff.code, 2);
  t.false(existsSync(marker));
}));

linux('run --close-fds --keep refuses a descriptor fdscan did not receive (its own eventpoll, a libuv pipe)', (t) => {
  const result = bash('"$NODE" "$FDSCAN" run --close-fds --keep 3,12 -- true');
  t.is(result.code, 2, result.stderr);
  t.regex(result.stderr, /--keep .*fdscan did not receive/);
  const kept = bash('exec 9</dev/null; "$NODE" "$FDSCAN" run --close-fds --keep 9 -- sh -c \'ls /proc/$$/fd\'');
  t.is(kept.code, 0, kept.stderr);
  t.deepEqual(kept.stdout.split('\n').filter(Boolean).map(Number).sort((a, b) => a - b), [0, 1, 2, 9]);
});

function request(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk) => { data += String(chunk); });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

async function retry<T>(body: () => Promise<T>, attempts: number): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await body();
    } catch (error) {
      if (i >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

linux('a deleted working directory: run starts CMD there; gate and inherit-diff refuse in one line (Node cannot start the tracer thread)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-gone-'));
  const script = (command: string): string => `cd "${dir}" && rmdir "${dir}" && exec "$NODE" "$FDSCAN" ${command} -- sh -c 'readlink /proc/$$/cwd'`;
  const run = bash(script('run'));
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout.trim(), `${dir} (deleted)`);
  for (const command of ['gate', 'inherit-diff']) {
    mkdirSync(dir);
    const traced = bash(script(command));
    t.is(traced.code, 2, command);
    t.regex(traced.stderr, /^(sh: .*\n)*fdscan: the working directory was deleted.*\n$/, command);
  }
});

linux('every asynchronous signal sent to fdscan run reaches CMD (none kills fdscan and orphans CMD)', (t) => {
  for (const name of ['SIGALRM', 'SIGVTALRM', 'SIGXCPU', 'SIGPWR', 'SIGIO', 'SIGURG', 'SIGSTKFLT'] as const) {
    const signo = constants.signals[name];
    // CMD exits 3 from its trap; fdscan's status is CMD's.
    const result = bash(`"$NODE" "$FDSCAN" run -- sh -c 'trap "exit 3" ${signo}; kill -${signo} $PPID; sleep 1 & wait' & pid=$!; wait $pid`);
    t.is(result.code, 3, `${name}: ${result.stderr}`);
  }
});
