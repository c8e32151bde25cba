/**
 * `node dist/bench/python-frames.js [PYTHON]`: microseconds per readPythonFrames() of a thread held
 * at the exit of an openat, as origin tracing holds it: the first look at a process (ELF symbols
 * read, then cached by file for later processes), a cached read at stack depths 5, 55 and 255, and
 * a process that is not Python. Medians of repeated reads; printed, never asserted. Needs root (or
 * ptrace rights over its own children) and test/fixtures/python-frames/app.py.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { forgetPythonProcess, readPythonFrames } from '../probes/linux/python-frames.js';
import { atOpenExit } from '../test/helpers/syscall-stop.js';
import { repoRoot } from './native.js';

const python = process.argv[2] ?? '/usr/bin/python3.11';
const app = join(repoRoot, 'test', 'fixtures', 'python-frames', 'app.py');
const ROUNDS = 2000;

async function start(command: string, args: string[], waitForLine: boolean): Promise<{ pid: number; child: ChildProcess }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  if (waitForLine) {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`${command} exited with ${code}`)));
    });
    return { pid: (JSON.parse(line) as { pid: number }).pid, child };
  }
  await new Promise((resolve) => child.once('spawn', resolve));
  return { pid: child.pid!, child };
}

const micros = (from: bigint): number => Number(process.hrtime.bigint() - from) / 1000;
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** One timed first read, then the median of ROUNDS cached reads, with the thread held at an openat exit. */
function measure(pid: number): { first: number; cached: number; frames: number } {
  return atOpenExit(pid, pid, '/dev/null', () => {
    const start = process.hrtime.bigint();
    const result = readPythonFrames(pid, pid);
    const first = micros(start);
    if (!('frames' in result)) throw new Error(`no frames: ${result.reason}`);
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const at = process.hrtime.bigint();
      readPythonFrames(pid, pid);
      times.push(micros(at));
    }
    return { first, cached: median(times), frames: result.frames.length };
  });
}

const rows: Array<[string, string, string]> = [];
for (const [label, depth] of [['first process', 0], ['second process (ELF symbols cached)', 0], ['', 50], ['', 250]] as const) {
  const { pid, child } = await start(python, [app, String(depth)], true);
  try {
    const { first, cached, frames } = measure(pid);
    rows.push([`${python} ${label || `stack of ${frames}`} (${frames} frames)`, first.toFixed(0), cached.toFixed(1)]);
  } finally {
    forgetPythonProcess(pid);
    child.kill('SIGKILL');
  }
}
{
  const { pid, child } = await start('sleep', ['100'], false);
  const at = process.hrtime.bigint();
  const result = readPythonFrames(pid, pid);
  const first = micros(at);
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = process.hrtime.bigint();
    readPythonFrames(pid, pid);
    times.push(micros(t));
  }
  rows.push([`sleep (${'reason' in result ? result.reason : 'frames?!'})`, first.toFixed(0), median(times).toFixed(2)]);
  forgetPythonProcess(pid);
  child.kill('SIGKILL');
}
console.log(['process', 'first read µs', `cached read µs (median of ${ROUNDS})`].join('\t'));
for (const row of rows) console.log(row.join('\t'));
