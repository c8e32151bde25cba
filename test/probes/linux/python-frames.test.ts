/**
 * Python frames read from a stopped CPython: a real interpreter running test/fixtures/python-frames/app.py,
 * one of its threads held at the exit of an openat (as origin tracing holds it) or interrupted, and
 * the frames compared with the stacks the program printed itself (traceback.extract_stack()).
 */
import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { forgetPythonProcess, isPython, lineOf, MAX_FRAMES, pythonInfo, readPythonFrames, type PythonFrame } from '../../../probes/linux/python-frames.js';
import { fixturesDir } from '../../helpers/fixture.js';
import { atOpenExit, whileInterrupted } from '../../helpers/syscall-stop.js';

const linux = process.platform === 'linux' && process.getuid?.() === 0;
const APP = join(fixturesDir, 'python-frames', 'app.py');

interface App {
  pid: number;
  worker: number;
  /** Per site: [name, file, line] innermost first, as extract_stack() saw it. */
  sites: Record<'direct' | 'nested' | 'method' | 'thread', Array<[string, string, number]>>;
  child: ChildProcess;
}

async function startApp(python: string, depth = 0): Promise<App> {
  const child = spawn(python, [APP, String(depth)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${python} app.py exited with ${code} before printing its stacks`)));
  });
  return { ...(JSON.parse(line) as Omit<App, 'child'>), child };
}

function stopApp(app: App): Promise<void> {
  forgetPythonProcess(app.pid);
  if (app.child.exitCode !== null || app.child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => app.child.once('exit', () => resolve()));
  app.child.kill('SIGKILL');
  return exited;
}

/** Descriptors of this test process open on /proc/PID/mem. */
function memDescriptors(pid: number): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === `/proc/${pid}/mem`) n++;
    } catch {
      // the directory's own descriptor, closed by now
    }
  }
  return n;
}

/** The frames, or the test fails with the reason. */
function framesOf(t: ExecutionContext, pid: number, tid: number): PythonFrame[] {
  const result = readPythonFrames(pid, tid);
  if ('reason' in result) {
    t.fail(`no frames: ${result.reason}`);
    return [];
  }
  t.is(result.incomplete, undefined);
  return result.frames;
}

/** Our frames as extract_stack() shows them: its name is co_name, ours the qualified name. */
const asPrinted = (frames: PythonFrame[]) => frames.map((f) => [f.function.split('.').pop(), f.file, f.line]);

const PYTHONS: Array<[string, string]> = [
  ['Debian 3.11 (/usr/bin/python3.11, names in the executable)', '/usr/bin/python3.11'],
  ['pyenv 3.11.7 (libpython3.11.so)', '/root/.pyenv/versions/3.11.7/bin/python3.11'],
  ['pyenv 3.12.1 (libpython3.12.so)', '/root/.pyenv/versions/3.12.1/bin/python3.12'],
  ['pyenv 3.13.0 (_Py_DebugOffsets)', '/root/.pyenv/versions/3.13.0/bin/python3.13'],
];

for (const [label, python] of PYTHONS) {
  const run = linux && existsSync(python) ? test.serial : test.skip;
  const title = existsSync(python) ? label : `${label} (skipped: ${python} is not installed)`;

  run(`${title}: lineOf() gives the line co_lines() gives, for every instruction of json, argparse, asyncio.base_events and typing`, (t) => {
    const dump = spawnSync(python, [join(fixturesDir, 'python-frames', 'line-tables.py'), 'json', 'argparse', 'asyncio.base_events', 'typing'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    t.is(dump.status, 0, dump.stderr);
    let checked = 0;
    let mismatches: string[] = [];
    for (const line of dump.stdout.trim().split('\n')) {
      const code = JSON.parse(line) as { name: string; first: number; table: string; ranges: Array<[number, number, number | null]> };
      const table = Buffer.from(code.table, 'hex');
      for (const [start, end, want] of code.ranges) {
        for (let offset = start; offset < end; offset += 2) {
          const got = lineOf(table, code.first, offset);
          if (got !== (want ?? 0)) mismatches.push(`${code.name}+${offset}: ${got}, co_lines ${want}`);
          checked++;
        }
      }
    }
    mismatches = mismatches.slice(0, 5);
    t.deepEqual(mismatches, []);
    t.true(checked > 10_000, `${checked} offsets`);
  });

  run(`${title}: at an openat exit, the frames are the program's own stack, innermost first`, async (t) => {
    const app = await startApp(python);
    try {
      t.true(isPython(app.pid));
      t.regex(pythonInfo(app.pid)!.version, /^3\.1[123]\.\d+$/);
      const sites: Array<['direct' | 'nested' | 'method', string]> = [['direct', '/dev/null'], ['nested', '/dev/urandom'], ['method', '/dev/zero']];
      for (const [site, path] of sites) {
        const frames = atOpenExit(app.pid, app.pid, path, () => framesOf(t, app.pid, app.pid));
        t.deepEqual(asPrinted(frames), app.sites[site], site);
        t.true(frames.every((f) => f.object === 'python' && f.offset > 0), site);
      }
      const method = atOpenExit(app.pid, app.pid, '/dev/zero', () => framesOf(t, app.pid, app.pid));
      t.is(method[0]!.function, 'Opener.open_it');
      const [leak, caller] = atOpenExit(app.pid, app.pid, '/dev/urandom', () => framesOf(t, app.pid, app.pid));
      t.is(`${leak!.function} (app.py:${leak!.line}) <- ${caller!.function}`, `leak_it (app.py:${app.sites.nested[0]![2]}) <- nested`);
      t.is(leak!.file, APP);
      t.is(memDescriptors(app.pid), 1, 'one /proc/PID/mem kept open for the process');
      forgetPythonProcess(app.pid);
      t.is(memDescriptors(app.pid), 0, 'closed once forgotten');
    } finally {
      await stopApp(app);
    }
  });

  run(`${title}: a thread's frames are its own, not the main thread's`, async (t) => {
    const app = await startApp(python);
    try {
      const worker = atOpenExit(app.pid, app.worker, '/dev/full', () => framesOf(t, app.pid, app.worker));
      t.deepEqual(asPrinted(worker), app.sites.thread);
      t.is(worker[0]!.function, 'leak_in_thread');
      const main = whileInterrupted(app.pid, () => framesOf(t, app.pid, app.pid));
      t.deepEqual(main.slice(-3).map((f) => f.function), ['deep', 'main', '<module>']);
      t.false(main.some((f) => f.function === 'leak_in_thread' || f.function === 'run_worker'));
      // A thread id that is none of its threads (this test's own): no thread state names it.
      t.deepEqual(readPythonFrames(app.pid, process.pid), { reason: 'no-thread-state' });
    } finally {
      await stopApp(app);
    }
  });
}

const system = linux && existsSync('/usr/bin/python3.11') ? test.serial : test.skip;

system(`a stack deeper than ${MAX_FRAMES} frames gives the innermost ${MAX_FRAMES}`, async (t) => {
  const app = await startApp('/usr/bin/python3.11', 600);
  try {
    const frames = atOpenExit(app.pid, app.pid, '/dev/null', () => framesOf(t, app.pid, app.pid));
    t.is(frames.length, MAX_FRAMES);
    t.deepEqual(frames.slice(0, 3).map((f) => f.function), ['leak_it', 'loop', 'deep']);
    t.true(frames.slice(2).every((f) => f.function === 'deep'));
  } finally {
    await stopApp(app);
  }
});

/** Start hostile.py in `mode` under the system's 3.11; resolves with its pid once it is looping. */
async function startHostile(mode: string): Promise<{ pid: number; child: ChildProcess }> {
  const child = spawn('/usr/bin/python3.11', [join(fixturesDir, 'python-frames', 'hostile.py'), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`hostile.py ${mode} exited with ${code}`)));
  });
  return { pid: Number(line), child };
}

system('a frame chain that loops back on itself ends at the loop: the frames read so far, incomplete: corrupt', async (t) => {
  const { pid, child } = await startHostile('cycle');
  try {
    const result = atOpenExit(pid, pid, '/dev/null', () => readPythonFrames(pid, pid));
    t.like(result, { incomplete: 'corrupt' });
    t.deepEqual('frames' in result ? result.frames.map((f) => f.function) : [], ['cycle']);
  } finally {
    forgetPythonProcess(pid);
    child.kill('SIGKILL');
  }
});

system('names of 10,000,000 characters are read as their first 4,096 and an ellipsis', async (t) => {
  const { pid, child } = await startHostile('huge');
  try {
    const result = atOpenExit(pid, pid, '/dev/null', () => readPythonFrames(pid, pid));
    const frames = 'frames' in result ? result.frames : [];
    t.is(frames[0]?.function, `${'q'.repeat(4096)}…`);
    t.is(frames[0]?.file, `${'f'.repeat(4096)}…`);
    t.is(frames[1]?.function, '<module>');
  } finally {
    forgetPythonProcess(pid);
    child.kill('SIGKILL');
  }
});

system('names that are not ASCII (UCS-2 and UCS-4 strings) are read as the program wrote them', async (t) => {
  const { pid, child } = await startHostile('unicode');
  try {
    const result = atOpenExit(pid, pid, '/dev/null', () => readPythonFrames(pid, pid));
    const frames = 'frames' in result ? result.frames : [];
    t.is(frames[0]?.function, 'Größe.打开_\u{1f600}');
    t.is(frames[0]?.file, '/tmp/ファイル.py');
  } finally {
    forgetPythonProcess(pid);
    child.kill('SIGKILL');
  }
});

system('a child forked without exec: its own frames, from its own copy of the interpreter', async (t) => {
  const parent = spawn('/usr/bin/python3.11', ['-W', 'ignore', join(fixturesDir, 'python-frames', 'fork-child.py')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const child = Number(await new Promise<string>((resolve, reject) => {
    createInterface({ input: parent.stdout! }).once('line', resolve);
    parent.once('exit', (code) => reject(new Error(`fork-child.py exited with ${code}`)));
  }));
  try {
    t.true(isPython(parent.pid!), 'the parent looked at first');
    const frames = atOpenExit(child, child, '/dev/null', () => framesOf(t, child, child));
    t.deepEqual(frames.map((f) => [f.function, f.line]), [['leak_in_child', 9], ['<module>', 17]]);
  } finally {
    forgetPythonProcess(child);
    forgetPythonProcess(parent.pid!);
    try {
      process.kill(child, 'SIGKILL');
    } catch {
      // already gone
    }
    parent.kill('SIGKILL');
  }
});

system('microseconds per read: first look at a process, then cached (logged, not asserted)', async (t) => {
  const app = await startApp('/usr/bin/python3.11');
  try {
    const times = atOpenExit(app.pid, app.pid, '/dev/null', () => {
      const first = process.hrtime.bigint();
      const result = readPythonFrames(app.pid, app.pid);
      const cached = process.hrtime.bigint();
      const rounds = 200;
      for (let i = 0; i < rounds - 1; i++) readPythonFrames(app.pid, app.pid);
      const last = readPythonFrames(app.pid, app.pid);
      const end = process.hrtime.bigint();
      t.true('frames' in result);
      t.deepEqual(last, result, 'the cached reads give what the first gave');
      return { first: Number(cached - first) / 1000, cached: Number(end - cached) / 1000 / rounds, frames: 'frames' in result ? result.frames.length : 0 };
    });
    t.log(`python-frames: ${times.frames} frames; first read ${times.first.toFixed(0)} µs, cached ${times.cached.toFixed(1)} µs per read`);
  } finally {
    await stopApp(app);
  }
});

(linux ? test.serial : test.skip)('a process that is not Python: not-python, and no /proc/PID/mem kept open', async (t) => {
  const child = spawn('sleep', ['100'], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => child.once('spawn', resolve));
    const start = process.hrtime.bigint();
    const result = readPythonFrames(child.pid!, child.pid!);
    const first = Number(process.hrtime.bigint() - start) / 1000;
    const again = process.hrtime.bigint();
    t.false(isPython(child.pid!));
    const cached = Number(process.hrtime.bigint() - again) / 1000;
    t.deepEqual(result, { reason: 'not-python' });
    t.is(memDescriptors(child.pid!), 0);
    t.log(`not Python: first ${first.toFixed(0)} µs, cached ${cached.toFixed(1)} µs`);
  } finally {
    forgetPythonProcess(child.pid!);
    child.kill('SIGKILL');
  }
});

(linux ? test.serial : test.skip)('a pid that does not exist: unreadable', (t) => {
  t.deepEqual(readPythonFrames(2147483647, 2147483647), { reason: 'unreadable' });
  forgetPythonProcess(2147483647);
});
