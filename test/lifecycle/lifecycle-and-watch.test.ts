/** The lifecycle reads the child's table at its exec; watch ends on an exit or a zombie and keeps what stayed. */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { runLifecycle, watchProcess } from '../../src/index.js';
import { fdscanBin } from '../helpers/fixture.js';

const linux = process.platform === 'linux' ? test.serial : test.skip;

linux('lifecycle -- /bin/true twenty times: the child received 0, 1, 2 and only ambient descriptors, each time', async (t) => {
  for (let i = 0; i < 20; i++) {
    const result = await runLifecycle(['/bin/true']);
    t.is(result.child?.error, undefined);
    const fds = result.child!.fds.map((d) => d.fd);
    t.deepEqual(fds.slice(0, 3), [0, 1, 2], `run ${i}: ${fds.join(',')}`);
    t.deepEqual(result.childExtra.filter((d) => !d.fromFdscan), [], `run ${i}: nothing beyond the ambient ones`);
    t.is(result.exitCode, 0);
  }
});

linux('lifecycle: an abort stops the child, removes the scratch folder and returns the steps so far', async (t) => {
  const controller = new AbortController();
  const running = runLifecycle(['sleep', '30'], { signal: controller.signal });
  // Abort once the command runs (however loaded the machine is).
  for (let i = 0; i < 300 && !spawnSync('pgrep', ['-P', String(process.pid), '-x', 'sleep']).stdout.length; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  controller.abort('SIGTERM');
  const result = await running;
  t.is(result.interrupted, 'SIGTERM');
  t.is(result.exitCode, 143, 'the child died of SIGTERM');
  t.true(result.steps.length >= 2);
  const scratch = result.steps.find((s) => s.step === 'open-file')!.action.replace(/^opened (.*)\/scratch\.txt.*$/, '$1');
  t.throws(() => mkdtempSync(join(scratch, 'x')), { code: 'ENOENT' }, 'the scratch folder is gone');
});

linux('watch: a process that becomes a zombie ends the watch as exited, and what appeared and stayed is kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-watch-'));
  // The parent forks a child and never reaps it: the child's last state is a zombie.
  const script = `
import os, sys, time
pid = os.fork()
if pid == 0:
    # Opened only once the watch has its first sample (the test writes 'go' then): a loaded machine
    # may take longer than any fixed wait to start the watch, and the file would then be in its first table.
    while not os.path.exists(os.path.join(sys.argv[1], 'go')):
        time.sleep(0.05)
    f = open(os.path.join(sys.argv[1], 'stays.log'), 'w')
    time.sleep(3.0)  # several samples see it, however slow a loaded machine samples
    os._exit(0)
print(pid, flush=True)
time.sleep(30)
`;
  const parent = spawn('python3', ['-c', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const line = await createInterface({ input: parent.stdout! })[Symbol.asyncIterator]().next();
    const child = Number(line.value);
    const summary = await watchProcess(child, { intervalMs: 100, onSample: () => writeFileSync(join(dir, 'go'), '') });
    t.is(summary.ended, 'exited');
    t.deepEqual(summary.execs, [], 'a zombie is no exec');
    t.true(summary.counts.every((n) => n > 0), 'no sample of a zombie\'s empty table');
    t.true(summary.stayed.some((d) => d.target === join(dir, 'stays.log')), JSON.stringify(summary.stayed));
  } finally {
    parent.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Whether `pid` has a handler for signal `signo` (SigCgt of its status); false once it is gone. */
/** Whether a file whose path contains `name` is mapped in `pid` (a native module loaded). */
function mapped(pid: number, name: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/maps`, 'latin1').includes(name);
  } catch {
    return false;
  }
}

function catches(pid: number, signo: number): boolean {
  try {
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
    return mask !== undefined && ((BigInt(`0x${mask}`) >> BigInt(signo - 1)) & 1n) === 1n;
  } catch {
    return false;
  }
}

linux('SIGTERM to fdscan watch PID --json (as timeout sends it) ends the watch with its summary, as Ctrl-C does', async (t) => {
  const watch = spawn(process.execPath, [fdscanBin, 'watch', String(process.pid), '--interval', '200ms', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  watch.stdout!.on('data', (chunk) => { stdout += String(chunk); });
  watch.stderr!.on('data', (chunk) => { stderr += String(chunk); });
  const exited = new Promise<number | null>((resolve) => watch.once('exit', (code) => resolve(code)));
  // Sent once the watch listens for it (a fixed delay, as `timeout 5` was, lost the race on a loaded
  // machine: exit 143), then after a few of its 200 ms samples. SigCgt alone does not say it: Node
  // itself catches SIGINT and SIGTERM from its start (to restore the terminal, then die of them), so
  // the bit was set a second before fdscan listened, and on a machine with a load of 19 it still died
  // of the signal. fdscan listens before its first sample, which loads koffi, its native reader.
  for (let i = 0; i < 600 && !(catches(watch.pid!, 15) && mapped(watch.pid!, 'koffi')); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  watch.kill('SIGTERM');
  t.is(await exited, 0, stderr);
  const summary = JSON.parse(stdout) as { schema: string; ended: string; samples: number; counts: number[] };
  t.is(summary.schema, 'fdscan/watch@1');
  t.is(summary.ended, 'interrupted');
  t.true(summary.samples >= 1 && summary.counts.length === summary.samples, JSON.stringify(summary.counts));
});

linux('fdscan lifecycle killed by SIGTERM: the child is stopped, the scratch folder removed, the steps printed, exit 143', async (t) => {
  const child = spawn(process.execPath, [fdscanBin, 'lifecycle', '--json', '--', 'sleep', '30'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout!.on('data', (chunk) => { stdout += String(chunk); });
  let sleeper: number | undefined;
  for (let i = 0; i < 100 && sleeper === undefined; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const found = spawnSync('pgrep', ['-P', String(child.pid), '-x', 'sleep'], { encoding: 'utf8' }).stdout.trim();
    if (found) sleeper = Number(found);
  }
  t.truthy(sleeper, 'the lifecycle child started');
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  t.is(code, 143);
  const result = JSON.parse(stdout) as { interrupted: string; steps: Array<{ step: string; action: string }> };
  t.is(result.interrupted, 'SIGTERM');
  t.false(existsSync(`/proc/${sleeper}`), 'no child left');
  const scratch = result.steps.find((s) => s.step === 'open-file')!.action.replace(/^opened (.*)\/scratch\.txt.*$/, '$1');
  t.false(existsSync(scratch), 'no scratch folder left');
});
