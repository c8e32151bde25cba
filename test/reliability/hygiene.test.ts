/**
 * fdscan's own hygiene: the commands it starts receive only what the user passed them, never
 * fdscan's internal descriptors; killing fdscan mid-trace leaves nothing stopped or traced.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fdscanBin } from '../helpers/fixture.js';

const linux = process.platform === 'linux' ? test.serial : test.serial.skip;

/** Lists the open descriptors of the python process itself (fcntl opens none) with their targets. */
const LIST_FDS = `import fcntl, json, os
out = {}
for fd in range(4096):
    try:
        fcntl.fcntl(fd, fcntl.F_GETFD)
    except OSError:
        continue
    try:
        out[fd] = os.readlink('/proc/self/fd/%d' % fd)
    except OSError as e:
        out[fd] = str(e)
print(json.dumps(out))`;

/**
 * Start `fdscan ARGS -- python3 -c LIST_FDS` from a clean slate: a wrapper closes everything but
 * 0, 1, 2 and fd 40 (a file the test passes on purpose) before it execs node, so whatever else the
 * command receives can only be fdscan's.
 */
function descriptorsReceived(args: string[]): Record<string, string> {
  const passed = openSync('/etc/hostname', 'r');
  try {
    const wrapper = 'import os, sys; os.closerange(3, 40); os.closerange(41, 65536); os.execv(sys.argv[1], sys.argv[1:])';
    const stdio: Array<'ignore' | 'pipe' | number> = ['ignore', 'pipe', 'pipe', ...Array<'ignore'>(37).fill('ignore'), passed];
    const result = spawnSync('python3', ['-c', wrapper, process.execPath, fdscanBin, ...args, '--', 'python3', '-c', LIST_FDS], { stdio, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`fdscan ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, string>;
  } finally {
    closeSync(passed);
  }
}

for (const args of [['run'], ['inherit-diff'], ['inherit-diff', '--sample'], ['inherit-diff', '--json', '-o', '/dev/null']]) {
  linux(`fdscan ${args.join(' ')}: the command receives 0, 1, 2 and the passed descriptor, none of fdscan's own`, (t) => {
    const received = descriptorsReceived(args);
    t.deepEqual(Object.keys(received), ['0', '1', '2', '40'], JSON.stringify(received));
    t.is(received['40'], '/etc/hostname');
  });
}

interface ProcState { pid: number; ppid: number; state: string; tracer: number }

/** Every process whose command line contains `marker`, with its state and tracer. */
function processesWith(marker: string): ProcState[] {
  const found: ProcState[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/cmdline`, 'latin1').includes(marker)) continue;
      const status = readFileSync(`/proc/${name}/status`, 'latin1');
      found.push({
        pid: Number(name),
        ppid: Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]),
        state: /^State:\s+(\S)/m.exec(status)?.[1] ?? '?',
        tracer: Number(/^TracerPid:\s+(\d+)/m.exec(status)?.[1]),
      });
    } catch { /* gone meanwhile */ }
  }
  return found;
}

/** Leftovers of a run: stopped (T, t) or still-traced processes, or zombies of a live parent. */
function badLeftovers(marker: string): ProcState[] {
  // A zombie reparented to init is init's to reap (this machine's init may take a while).
  return processesWith(marker).filter((p) => 'Tt'.includes(p.state) || p.tracer !== 0 || (p.state === 'Z' && p.ppid !== 1));
}

function cleanUp(marker: string): void {
  for (const p of processesWith(marker)) {
    try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  linux(`${signal} to fdscan mid-trace: the tree is killed, nothing left stopped, traced or a zombie`, async (t) => {
    // The sleep's odd duration marks every process of this run (the sh's command line holds it too).
    const marker = `30.${randomBytes(4).readUInt32BE()}`;
    const child = spawn(process.execPath, [fdscanBin, 'inherit-diff', '--', 'sh', '-c', `sleep ${marker}`], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // Wait until the sleep itself runs under the tracer.
      while (!processesWith(marker).some((p) => p.tracer !== 0 && readFileSync(`/proc/${p.pid}/comm`, 'latin1').trim() === 'sleep')) {
        await sleep(20);
      }
      child.kill(signal);
      const code = await exited;
      t.is(code, 128 + (signal === 'SIGTERM' ? 15 : 2), 'fdscan reports the death of the command');
      t.deepEqual(badLeftovers(marker), []);
      t.deepEqual(processesWith(marker).filter((p) => p.state !== 'Z'), [], 'the tree was killed');
    } finally {
      cleanUp(marker);
    }
  });
}

linux('SIGTERM at any moment of start-up reaches every process and leaves nothing stopped or traced', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-hygiene-'));
  try {
    for (let i = 0; i < 8; i++) {
      const marker = `30.${randomBytes(4).readUInt32BE()}`;
      const report = join(dir, `report-${i}.json`);
      const child = spawn(process.execPath, [fdscanBin, 'inherit-diff', '--json', '-o', report, '--', 'sh', '-c', `sleep ${marker}`], { stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      // As soon as the command exists (the stub, stopped or being seized), plus 0 to 14 ms: the
      // window where fdscan has spawned the command but may not know its pid, or the sh has
      // just forked the sleep.
      while (!processesWith(marker).some((p) => p.pid !== child.pid) && child.exitCode === null) await new Promise(setImmediate);
      const stubSeen = child.exitCode === null;
      if (i > 0) await sleep(i * 2);
      child.kill('SIGTERM');
      const code = await exited;
      const when = `kill ${i * 2} ms after the command was spawned`;
      try {
        t.deepEqual(badLeftovers(marker), [], when);
        if (!stubSeen) continue;
        t.is(code, 143, when);
        // A process that missed the signal would have slept its 30 s and exited 0.
        const document = JSON.parse(readFileSync(report, 'utf8')) as { tree: Array<{ pid: number; exit?: { signal?: string } }> };
        for (const p of document.tree) t.is(p.exit?.signal, 'SIGTERM', `${when}: pid ${p.pid} ${JSON.stringify(p.exit)}`);
      } finally {
        cleanUp(marker);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
