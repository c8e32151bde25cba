/**
 * The POSIX launcher (bin/fdscan, npm's `bin` on Linux and macOS) gives a
 * wrapped command what Node takes from fdscan at start-up: the signals its caller left ignored
 * stay ignored (for fdscan and CMD), CMD gets the caller's soft descriptor limit, and the
 * environment goes on as given (the shells involved set PWD on their own).
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseCallerState } from '../../src/launch/caller-state.js';
import { fdscanBin } from '../helpers/fixture.js';
import { fdscanLauncher, installCopy } from '../helpers/installed-copy.js';
import { withTempDir } from '../helpers/temp-dir.js';

const linux = process.platform === 'linux' ? test : test.skip;
const WRAPPERS = ['run', 'gate', 'inherit-diff'];
/** Soft descriptor limit the caller sets: below the hard one, so Node's raise would show. */
const CALLER_SOFT_LIMIT = 1000;

function bash(script: string, env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('/bin/bash', ['-c', script], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, FDSCAN: fdscanLauncher, NODE_DIR: dirname(process.execPath), NO_COLOR: '1', ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * CMD records its ignored-signal mask and soft limit, sends SIGHUP to fdscan (its parent) and to
 * itself, and says it survived.
 */
const PROBING_CMD = `sh -c 'grep SigIgn /proc/self/status > "$1"; ulimit -S -n >> "$1"; kill -HUP $PPID; sleep 0.3; kill -HUP $$; echo survived >> "$1"' sh`;

/** Ignored-signal mask of a SigIgn line, as a number. */
function ignoredMask(report: string): bigint {
  const match = /SigIgn:\s*([0-9a-f]+)/.exec(report);
  return match ? BigInt(`0x${match[1]}`) : -1n;
}

for (const wrapper of WRAPPERS) {
  linux(`${wrapper} through the launcher, started with SIGHUP ignored (nohup): fdscan and CMD survive SIGHUP, CMD gets the caller's soft limit`, (t) => withTempDir('fdscan-launcher', (dir) => {
    const report = join(dir, 'report');
    // Node is found on PATH by the launcher, as `#!/usr/bin/env node` would find it.
    const result = bash(`PATH="$NODE_DIR:$PATH"; ulimit -S -n ${CALLER_SOFT_LIMIT}; trap '' HUP; exec sh "$FDSCAN" ${wrapper} -- ${PROBING_CMD} "${report}"`);
    const seen = readFileSync(report, 'utf8');
    t.is(result.code, 0, `${result.stderr}\n${seen}`);
    t.is(ignoredMask(seen) & 1n, 1n, `SIGHUP (bit 1) ignored by CMD: ${seen}`);
    t.regex(seen, new RegExp(`^${CALLER_SOFT_LIMIT}$`, 'm'), 'CMD has the caller soft limit');
    t.regex(seen, /^survived$/m);
  }));
}

linux('the same without SIGHUP ignored: SIGHUP sent to fdscan is forwarded and CMD dies of it (129)', (t) => withTempDir('fdscan-launcher', (dir) => {
  const report = join(dir, 'report');
  const result = bash(`PATH="$NODE_DIR:$PATH"; exec sh "$FDSCAN" run -- ${PROBING_CMD} "${report}"`);
  t.is(result.code, 129, result.stderr);
  t.is(ignoredMask(readFileSync(report, 'utf8')) & 1n, 0n);
}));

linux('started by Node directly nothing was recorded: CMD gets Node\'s raised soft limit (what the launcher is for)', (t) => withTempDir('fdscan-launcher', (dir) => {
  const report = join(dir, 'report');
  bash(`ulimit -S -n ${CALLER_SOFT_LIMIT}; trap '' HUP; "${process.execPath}" "${fdscanBin}" run -- sh -c 'ulimit -S -n > "$1"' sh "${report}"`);
  t.not(readFileSync(report, 'utf8').trim(), String(CALLER_SOFT_LIMIT));
}));

// Serial: the other tests here block this process in spawnSync (npm pack and install among them)
// for longer than the target lives under load, and this one reads watch's output as it comes.
(process.platform === 'linux' ? test.serial : test.skip)('watch through the launcher with SIGHUP ignored: SIGHUP does not end it, SIGTERM does', async (t) => {
  const target = spawn('sleep', ['600'], { stdio: 'ignore' });
  const watch = spawn('/bin/bash', ['-c', `trap '' HUP; PATH="${dirname(process.execPath)}:$PATH" exec "${fdscanLauncher}" watch ${target.pid} --interval 100ms`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  const samples = (): number => (stdout.match(/^sample /gm) ?? []).length;
  watch.stdout!.on('data', (chunk) => { stdout += String(chunk); });
  const exited = new Promise<number | null>((resolve) => watch.once('exit', (c) => resolve(c)));
  const until = async (done: () => boolean): Promise<void> => {
    while (!done() && watch.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 50));
  };
  try {
    // Sampling shows fdscan's own listeners are in place (a signal before them would meet Node's defaults).
    await until(() => samples() >= 1);
    watch.kill('SIGHUP');
    const before = samples();
    await until(() => samples() >= before + 3);
    t.is(watch.exitCode, null, `still watching after SIGHUP: ${stdout}`);
    watch.kill('SIGTERM');
    await exited;
    t.regex(stdout, /^summary for pid \d+ .*interrupted/m, stdout);
  } finally {
    watch.kill('SIGKILL');
    target.kill('SIGKILL');
  }
});

for (const wrapper of WRAPPERS) {
  for (const start of ['launcher', 'node'] as const) {
    linux(`${wrapper} (${start}): CMD's environment is the caller's, no PWD added, a stale PWD kept`, (t) => {
      const starter = start === 'launcher' ? `sh "${fdscanLauncher}"` : `"${process.execPath}" "${fdscanBin}"`;
      for (const pwd of [undefined, '/etc']) {
        const given = [`PATH=${dirname(process.execPath)}:/usr/bin:/bin`, 'SPACED=a b', ...(pwd ? [`PWD=${pwd}`] : [])];
        const result = bash(`cd /; exec env -i ${given.map((v) => `'${v}'`).join(' ')} ${starter} ${wrapper} -- /usr/bin/env 2>/dev/null`);
        const received = result.stdout.split('\n').filter(Boolean).sort();
        t.deepEqual(received, [...given].sort(), `PWD ${pwd ?? 'absent'}`);
      }
    });
  }
}

linux('installed by npm (install scripts off): the command npm links is the launcher, run by the kernel through its #! line', (t) => withTempDir('fdscan-install', (dir) => {
  const installed = installCopy(dir);
  t.is(readlinkSync(installed.bin), '../lib/node_modules/fdscan/bin/fdscan', 'npm links the bin to the launcher');
  t.true(readFileSync(installed.bin, 'utf8').startsWith('#!/usr/bin/env sh\n'));
  const report = join(dir, 'report');
  const result = bash(`PATH="$NODE_DIR:$PATH"; ulimit -S -n ${CALLER_SOFT_LIMIT}; trap '' HUP; exec "${installed.bin}" run -- ${PROBING_CMD} "${report}"`);
  t.is(result.code, 0, result.stderr);
  const seen = readFileSync(report, 'utf8');
  t.is(ignoredMask(seen) & 1n, 1n, seen);
  t.regex(seen, new RegExp(`^${CALLER_SOFT_LIMIT}$`, 'm'));
  t.regex(seen, /^survived$/m);
}));

test('the launcher record: mask, limit and the environment parsed; anything else is not a record', (t) => {
  // As `od -An -v -tx1` prints it: pairs after a space, 16 to a line.
  const environ = Buffer.from('PWD=/home/a b\0A=\xff\0', 'latin1').toString('hex').replace(/(..)/g, ' $1').replace(/((?: ..){16})/g, '$1\n');
  t.deepEqual(parseCallerState(`sigign=0000000000000003 nofile=1024 environ:${environ}`), {
    recorded: true, ignoredSignals: [1, 2], softDescriptorLimit: 1024, givenPwd: '/home/a b',
    givenEnvironment: [Buffer.from('PWD=/home/a b'), Buffer.from('A=\xff', 'latin1')],
  });
  t.deepEqual(parseCallerState('sigign= nofile=unlimited environ:'), {
    recorded: true, ignoredSignals: [], softDescriptorLimit: 'unlimited', givenPwd: null, givenEnvironment: [],
  });
  // Where the environment would not fit in one variable: PWD alone.
  t.deepEqual(parseCallerState('sigign=0000000000000003 nofile=1024 pwd:PWD=/home/a b'), {
    recorded: true, ignoredSignals: [1, 2], softDescriptorLimit: 1024, givenPwd: '/home/a b',
  });
  t.is(parseCallerState('sigign= nofile=unlimited pwd:')?.givenPwd, null);
  t.deepEqual(parseCallerState('sigign=8000000000000000 nofile=5')?.ignoredSignals, [64]);
  t.is(parseCallerState('sigign=0000000000000003 nofile=1024')?.givenPwd, undefined);
  for (const bad of [undefined, '', 'x', 'sigign=zz nofile=1', 'sigign=1 nofile=-1', 'sigign=1', 'sigign=1 nofile=2 environ:4', 'sigign=1 nofile=2 environ:zz', 'sigign=1 nofile=2 pwd:HOME=/']) {
    t.is(parseCallerState(bad), undefined, String(bad));
  }
});

// Node opens /dev/null on a closed 0, 1 or 2 before any JavaScript runs; only the launcher sees
// that the caller had closed it, and CMD gets it closed again, as it would bare.
for (const command of WRAPPERS) {
  linux(`${command} (sh): what the caller closed of 0, 1, 2 is closed for CMD too, not Node's /dev/null`, (t) => {
    withTempDir('fdscan-closed-stdio', (dir) => {
      const out = join(dir, 'open');
      // CMD writes which of 0, 1, 2 it holds to a file of its own on fd 9.
      const probe = `sh -c 'exec 9>"$0"; for n in 0 1 2; do [ -e /dev/fd/$n ] && printf $n >&9; done; exit 0' ${out}`;
      for (const [closing, held] of [['<&-', '12'], ['2>&-', '01'], ['<&- >&- 2>&-', '']] as const) {
        const bare = bash(`${probe} ${closing}`);
        t.is(bare.code, 0);
        t.is(readFileSync(out, 'utf8'), held, `bare, ${closing}`);
        writeFileSync(out, 'not run');
        const wrapped = bash(`PATH="$NODE_DIR:$PATH" sh "$FDSCAN" ${command} ${command === 'run' ? '' : '-o /dev/null '}-- ${probe} ${closing}`);
        t.is(wrapped.code, 0, wrapped.stderr);
        t.is(readFileSync(out, 'utf8'), held, `${command}, ${closing}`);
      }
    });
  });
}

linux('--help says once when the caller\'s state is unknown: started by Node, not through the launcher', (t) => {
  const note = /^Started without its launcher/m;
  const direct = bash(`"${process.execPath}" "${fdscanBin}" --help`);
  t.is(direct.code, 0, direct.stderr);
  t.is(direct.stdout.match(new RegExp(note.source, 'gm'))?.length, 1, direct.stdout);
  const launched = bash(`PATH="$NODE_DIR:$PATH" "$FDSCAN" --help`);
  t.is(launched.code, 0, launched.stderr);
  t.regex(launched.stdout, /^Exit status:/m);
  t.notRegex(launched.stdout, note);
});
