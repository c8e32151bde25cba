/**
 * readNativeStack on real programs held at the exit of their openat by this thread (the tracer):
 * a `gcc -g -O0` program whose open_the_log() opens a log for main(), checked against its source
 * and against `strace -f -k`; the libunwind fallback; a stripped copy; a process that exited, one
 * that is not stopped by us, the libraries missing; and fdscan's own descriptors afterwards.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { displayFrames, forgetNativeStacks, nameNativeStack, readNativeStack, unwindNativeStack, type NativeStack, type StackFrame } from '../../../probes/linux/native-stack.js';
import { TracedProgram, stopAtOpen } from '../../helpers/stopped-at-open.js';
import { withTempDir } from '../../helpers/temp-dir.js';

const LEAKER = `#include <fcntl.h>
#include <unistd.h>

int open_the_log(const char *path) {
  return open(path, O_WRONLY | O_CREAT | O_APPEND, 0644); /* OPEN */
}

int main(int argc, char **argv) {
  int fd = open_the_log(argv[1]); /* CALL */
  return fd < 0;
}
`;
const THREADED = `#include <fcntl.h>
#include <pthread.h>

static void *log_opener(void *path) {
  long fd = open((const char *)path, O_WRONLY | O_CREAT | O_APPEND, 0644); /* THREAD-OPEN */
  return (void *)fd;
}

int main(int argc, char **argv) {
  pthread_t thread;
  void *fd;
  pthread_create(&thread, 0, log_opener, argv[1]);
  pthread_join(thread, &fd);
  return (long)fd < 0;
}
`;
/** A host that opens a file, then dlopens a plugin whose function opens the log. */
const HOST = `#include <dlfcn.h>
#include <fcntl.h>

int main(int argc, char **argv) {
  int first = open(argv[1], O_RDONLY);
  void *plugin = dlopen(argv[2], RTLD_NOW);
  int (*open_from_plugin)(const char *) = (int (*)(const char *))dlsym(plugin, "open_from_plugin");
  return open_from_plugin(argv[3]) < 0 || first < 0; /* PLUGIN-CALL */
}
`;
const PLUGIN = `#include <fcntl.h>

int open_from_plugin(const char *path) {
  return open(path, O_WRONLY | O_CREAT | O_APPEND, 0644); /* PLUGIN-OPEN */
}
`;
const CXX = `#include <fcntl.h>

namespace app {
struct Logger {
  int open_log(const char *path) { return ::open(path, O_WRONLY | O_CREAT | O_APPEND, 0644); }
};
}

int main(int argc, char **argv) {
  app::Logger logger;
  return logger.open_log(argv[1]) < 0;
}
`;
/** A host linked with the plugin (not dlopened): its file is opened by libdw only when a stack reaches it. */
const LINKED_HOST = `#include <fcntl.h>

int open_from_plugin(const char *path);

int main(int argc, char **argv) {
  int first = open(argv[1], O_RDONLY);
  return open_from_plugin(argv[2]) < 0 || first < 0;
}
`;
const lineOf = (marker: string, source = LEAKER): number => source.split('\n').findIndex((line) => line.includes(marker)) + 1;

/** gcc ARGS in `dir`; throws with its message on failure. */
function gcc(dir: string, args: string[]): void {
  const cc = spawnSync('gcc', args, { cwd: dir, encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc ${args.join(' ')}: ${cc.stderr}`);
}

const linux = process.platform === 'linux' ? test.serial : test.skip;

/** Compile the leaker into `dir` (and a stripped copy); returns the program's path. */
function build(dir: string, stripped = false): string {
  writeFileSync(join(dir, 'leaker.c'), LEAKER);
  const program = join(dir, 'leaker');
  const cc = spawnSync('gcc', ['-g', '-O0', '-o', program, join(dir, 'leaker.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr}`);
  if (!stripped) return program;
  copyFileSync(program, `${program}-stripped`);
  const strip = spawnSync('strip', [`${program}-stripped`], { encoding: 'utf8' });
  if (strip.status !== 0) throw new Error(`strip: ${strip.stderr}`);
  return `${program}-stripped`;
}

/** The stack read while `program` is stopped at the exit of its openat of DIR/app.log; the program then runs on untraced. */
function stackAtOpen(program: string, dir: string): { stack: NativeStack; again: NativeStack; exit: unknown } {
  const log = join(dir, 'app.log');
  const stopped = stopAtOpen(program, [log], log);
  try {
    const stack = readNativeStack(stopped.pid, stopped.pid);
    const again = readNativeStack(stopped.pid, stopped.pid); // from the per-process cache
    forgetNativeStacks(stopped.pid);
    return { stack, again, exit: stopped.detachAndWait() };
  } catch (error) {
    stopped.kill();
    throw error;
  }
}

function framesOf(stack: NativeStack): StackFrame[] {
  if ('reason' in stack) throw new Error(`no stack: ${stack.reason}`);
  return stack.frames;
}

/** With FDSCAN_LIBDW / FDSCAN_LIBUNWIND_PTRACE set for the body only. */
function withLibraries<T>(names: { libdw?: string; libunwind?: string }, body: () => T): T {
  const saved = [process.env.FDSCAN_LIBDW, process.env.FDSCAN_LIBUNWIND_PTRACE];
  if (names.libdw) process.env.FDSCAN_LIBDW = names.libdw;
  if (names.libunwind) process.env.FDSCAN_LIBUNWIND_PTRACE = names.libunwind;
  try {
    return body();
  } finally {
    for (const [key, value] of [['FDSCAN_LIBDW', saved[0]], ['FDSCAN_LIBUNWIND_PTRACE', saved[1]]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

linux('libdw: open_the_log (leaker.c:OPEN) <- main (leaker.c:CALL), innermost first, the program running on unchanged', (t) => {
  withTempDir('fdscan-native-stack', (dir) => {
    const program = build(dir);
    const { stack, again, exit } = stackAtOpen(program, dir);
    const frames = framesOf(stack);
    t.deepEqual(framesOf(again), frames);
    t.deepEqual(exit, { kind: 'exited', code: 0 });
    const own = displayFrames(frames);
    t.like(own.frames[0], { function: 'open_the_log', object: program, file: join(dir, 'leaker.c'), line: lineOf('OPEN') });
    t.like(own.frames[1], { function: 'main', object: program, file: join(dir, 'leaker.c'), line: lineOf('CALL') });
    t.deepEqual(own.raw, frames);
    // The raw stack starts in libc's open wrapper, the display does not.
    t.regex(frames[0]!.object, /\/libc\.so\.6$/);
    t.false(own.frames.some((frame) => /libc\.so|ld-linux/.test(frame.object)));
  });
});

linux('the function names and offsets in the program match strace -f -k', (t) => {
  withTempDir('fdscan-native-stack', (dir) => {
    const program = build(dir);
    const ours = displayFrames(framesOf(stackAtOpen(program, dir).stack)).frames.filter((frame) => frame.object === program);
    const log = join(dir, 'app.log');
    const traced = spawnSync('strace', ['-f', '-k', '-e', 'trace=openat', '-o', join(dir, 'strace.out'), program, log], { encoding: 'utf8' });
    t.is(traced.status, 0, traced.stderr);
    // openat(AT_FDCWD, "DIR/app.log", ...) = 3, then " > /path/leaker(open_the_log+0x27) [0x1160]" lines.
    const lines = readFileSync(join(dir, 'strace.out'), 'utf8').split('\n');
    const at = lines.findIndex((line) => line.includes(`openat(AT_FDCWD, "${log}"`));
    t.true(at >= 0);
    const theirs: Array<{ function: string; offset: number }> = [];
    for (const line of lines.slice(at + 1)) {
      const frame = / > (.*)\(([^+)]*)\+0x[0-9a-f]+\) \[0x([0-9a-f]+)\]$/.exec(line);
      if (!frame) break;
      if (frame[1] === program && frame[2] !== '_start') theirs.push({ function: frame[2]!, offset: Number.parseInt(frame[3]!, 16) });
    }
    t.deepEqual(ours.map(({ function: name, offset }) => ({ function: name, offset })), theirs);
    t.is(theirs.length, 2);
  });
});

linux('libunwind-ptrace when libdw is missing: the same functions and offsets, without file:line', (t) => {
  withTempDir('fdscan-native-stack', (dir) => {
    const program = build(dir);
    const viaLibdw = framesOf(stackAtOpen(program, dir).stack);
    const viaLibunwind = withLibraries({ libdw: 'libdw-missing-for-a-test.so.1' }, () => framesOf(stackAtOpen(program, dir).stack));
    const inProgram = (frames: StackFrame[]): unknown[] => frames.filter((frame) => frame.object === program).map(({ function: name, offset }) => ({ function: name, offset }));
    t.deepEqual(inProgram(viaLibunwind), inProgram(viaLibdw));
    t.deepEqual(inProgram(viaLibunwind).slice(0, 2).map((frame) => (frame as StackFrame).function), ['open_the_log', 'main']);
    t.true(viaLibunwind.every((frame) => frame.file === undefined && frame.line === undefined));
  });
});

linux('a stripped program: its frames keep object and offset, without a function name', (t) => {
  withTempDir('fdscan-native-stack', (dir) => {
    const full = displayFrames(framesOf(stackAtOpen(build(dir), dir).stack)).frames;
    const program = build(dir, true);
    const frames = framesOf(stackAtOpen(program, dir).stack);
    const own = frames.filter((frame) => frame.object === program);
    t.true(own.length >= 2);
    t.true(own.every((frame) => frame.function === undefined && frame.file === undefined));
    // Stripping removes symbols, not code: the same offsets as the unstripped build's.
    t.deepEqual(own.slice(0, 2).map((frame) => frame.offset), full.slice(0, 2).map((frame) => frame.offset));
  });
});

linux('a process that exited, and one not stopped by this thread, give a reason', async (t) => {
  withTempDir('fdscan-native-stack', (dir) => {
    const log = join(dir, 'app.log');
    const stopped = stopAtOpen(build(dir), [log], log);
    t.truthy(framesOf(readNativeStack(stopped.pid, stopped.pid)).length); // cached, then the process goes
    stopped.kill();
    t.deepEqual(readNativeStack(stopped.pid, stopped.pid), { reason: 'exited' });
  });
  const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => sleeper.once('spawn', resolve));
    t.deepEqual(readNativeStack(sleeper.pid!, sleeper.pid!), { reason: 'unreadable' });
    forgetNativeStacks(sleeper.pid!);
  } finally {
    sleeper.kill();
    await once(sleeper, 'exit'); // reaped by libuv before the next test traces
  }
});

linux('neither library: no-unwinder, before the process is touched', (t) => {
  const stack = withLibraries({ libdw: 'libdw-missing-for-a-test.so.1', libunwind: 'libunwind-ptrace-missing-for-a-test.so.0' }, () => readNativeStack(process.pid, process.pid));
  t.deepEqual(stack, { reason: 'no-unwinder' });
});

linux('the ELF files libdw keeps open are close-on-exec in fdscan', (t) => {
  withTempDir('fdscan-native-stack', (dir) => {
    const program = build(dir);
    const log = join(dir, 'app.log');
    const stopped = stopAtOpen(program, [log], log);
    try {
      framesOf(readNativeStack(stopped.pid, stopped.pid));
      // The Dwfl is cached: its files are open now.
      const held = readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === program;
        } catch {
          return false;
        }
      });
      t.true(held.length > 0);
      for (const fd of held) {
        const flags = Number.parseInt(/^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);
        t.true((flags & 0o2000000) !== 0, `fd ${fd} (${program}) is inheritable`);
      }
      forgetNativeStacks(stopped.pid);
    } finally {
      stopped.kill();
    }
  });
});

linux('a thread other than the main one: its own stack, from the thread function down', (t) => {
  withTempDir('fdscan-native-stack', (dir) => {
    writeFileSync(join(dir, 'threaded.c'), THREADED);
    gcc(dir, ['-g', '-O0', '-pthread', '-o', 'threaded', 'threaded.c']);
    const log = join(dir, 'app.log');
    const traced = stopAtOpen(join(dir, 'threaded'), [log], log);
    try {
      t.not(traced.tid, traced.pid);
      const frames = framesOf(readNativeStack(traced.pid, traced.tid));
      t.like(displayFrames(frames).frames[0], { function: 'log_opener', file: join(dir, 'threaded.c'), line: lineOf('THREAD-OPEN', THREADED) });
      t.false(frames.some((frame) => frame.function === 'main'));
      // The main thread, blocked in pthread_join, is not in a stop of ours: nothing to read there.
      t.deepEqual(readNativeStack(traced.pid, traced.pid), { reason: 'unreadable' });
      t.deepEqual(traced.detachAndWait(), { kind: 'exited', code: 0 });
    } finally {
      forgetNativeStacks(traced.pid);
      traced.kill();
    }
  });
});

linux('a library dlopened after the first stack was read: the module list is read again', (t) => {
  withTempDir('fdscan-native-stack', (dir) => {
    writeFileSync(join(dir, 'host.c'), HOST);
    writeFileSync(join(dir, 'plugin.c'), PLUGIN);
    gcc(dir, ['-g', '-O0', '-o', 'host', 'host.c', '-ldl']);
    gcc(dir, ['-g', '-O0', '-shared', '-fPIC', '-o', 'plugin.so', 'plugin.c']);
    const [first, log] = [join(dir, 'host.c'), join(dir, 'app.log')];
    const traced = TracedProgram.start(join(dir, 'host'), [first, join(dir, 'plugin.so'), log]);
    try {
      traced.runToOpen(first);
      t.like(displayFrames(framesOf(readNativeStack(traced.pid, traced.pid))).frames[0], { function: 'main', object: join(dir, 'host') });
      traced.runToOpen(log);
      const frames = displayFrames(framesOf(readNativeStack(traced.pid, traced.pid))).frames;
      t.like(frames[0], { function: 'open_from_plugin', object: join(dir, 'plugin.so'), file: join(dir, 'plugin.c'), line: lineOf('PLUGIN-OPEN', PLUGIN) });
      t.like(frames[1], { function: 'main', object: join(dir, 'host'), line: lineOf('PLUGIN-CALL', HOST) });
    } finally {
      forgetNativeStacks(traced.pid);
      traced.kill();
    }
  });
});

linux('a static stripped program: no-symbols (the frames have addresses and nothing to name them by)', (t) => {
  withTempDir('fdscan-native-stack', (dir) => {
    writeFileSync(join(dir, 'leaker.c'), LEAKER);
    gcc(dir, ['-static', '-O0', '-o', 'leaker', 'leaker.c']);
    const strip = spawnSync('strip', [join(dir, 'leaker')], { encoding: 'utf8' });
    t.is(strip.status, 0, strip.stderr);
    t.deepEqual(stackAtOpen(join(dir, 'leaker'), dir).stack, { reason: 'no-symbols' });
  });
});

linux('C++: the method named as its programmer wrote it, demangled, with either unwinder', (t) => {
  withTempDir('fdscan-native-stack', (dir) => {
    writeFileSync(join(dir, 'logger.cc'), CXX);
    const cxx = spawnSync('g++', ['-g', '-O0', '-o', 'logger', 'logger.cc'], { cwd: dir, encoding: 'utf8' });
    t.is(cxx.status, 0, cxx.stderr);
    const program = join(dir, 'logger');
    const names = (frames: StackFrame[]): unknown[] => displayFrames(frames).frames.slice(0, 2).map((frame) => frame.function);
    t.deepEqual(names(framesOf(stackAtOpen(program, dir).stack)), ['app::Logger::open_log(char const*)', 'main']);
    const viaLibunwind = withLibraries({ libdw: 'libdw-missing-for-a-test.so.1' }, () => framesOf(stackAtOpen(program, dir).stack));
    t.deepEqual(names(viaLibunwind), ['app::Logger::open_log(char const*)', 'main']);
  });
});

linux('a program deleted while it runs (rebuilt, upgraded): named from the deleted file itself, with file:line', (t) => {
  withTempDir('fdscan-native-stack', (dir) => {
    const program = build(dir);
    const log = join(dir, 'app.log');
    const traced = stopAtOpen(program, [log], log);
    try {
      unlinkSync(program);
      const frames = displayFrames(framesOf(readNativeStack(traced.pid, traced.pid))).frames;
      t.like(frames[0], { function: 'open_the_log', object: `${program} (deleted)`, line: lineOf('OPEN') });
      t.like(frames[1], { function: 'main', object: `${program} (deleted)`, line: lineOf('CALL') });
    } finally {
      forgetNativeStacks(traced.pid);
      traced.kill();
    }
  });
});

/** fdscan's own descriptors with close-on-exec clear, as `fd -> target`. */
function ownInheritable(): Set<string> {
  const found = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const flags = Number.parseInt(/^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8);
      if ((flags & 0o2000000) === 0) found.add(`${fd} -> ${readlinkSync(`/proc/self/fd/${fd}`)}`);
    } catch {
      // closed meanwhile (the listing's own)
    }
  }
  return found;
}

linux('a library first reached by a later stack of a cached process: the file libdw opens then is close-on-exec too', (t) => {
  withTempDir('fdscan-native-stack', (dir) => {
    writeFileSync(join(dir, 'host.c'), LINKED_HOST);
    writeFileSync(join(dir, 'plugin.c'), PLUGIN);
    gcc(dir, ['-g', '-O0', '-shared', '-fPIC', '-o', 'libplugin.so', 'plugin.c']);
    gcc(dir, ['-g', '-O0', '-o', 'host', 'host.c', `-L${dir}`, '-lplugin', `-Wl,-rpath,${dir}`]);
    const [first, log] = [join(dir, 'host.c'), join(dir, 'app.log')];
    const before = ownInheritable();
    const traced = TracedProgram.start(join(dir, 'host'), [first, log]);
    try {
      traced.runToOpen(first);
      framesOf(readNativeStack(traced.pid, traced.pid));
      traced.runToOpen(log);
      t.like(displayFrames(framesOf(readNativeStack(traced.pid, traced.pid))).frames[0], { function: 'open_from_plugin', object: join(dir, 'libplugin.so') });
      t.deepEqual([...ownInheritable()].filter((fd) => !before.has(fd)), []);
    } finally {
      forgetNativeStacks(traced.pid);
      traced.kill();
    }
  });
});

/** In a Node started under `ulimit -n SOFT`: the stack at the leaker's open, and how many of that Node's descriptors hold the leaker's file after it. */
function underLimit(soft: number, program: string, log: string): { functions: string[]; held: number } {
  const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const script = `
    import { readdirSync, readlinkSync } from 'node:fs';
    const { readNativeStack, displayFrames } = await import(${JSON.stringify(join(dist, 'probes', 'linux', 'native-stack.js'))});
    const { stopAtOpen } = await import(${JSON.stringify(join(dist, 'test', 'helpers', 'stopped-at-open.js'))});
    const [program, log] = process.argv.slice(1);
    const traced = stopAtOpen(program, [log], log);
    const stack = readNativeStack(traced.pid, traced.pid);
    const held = readdirSync('/proc/self/fd').filter((fd) => { try { return readlinkSync('/proc/self/fd/' + fd) === program; } catch { return false; } }).length;
    traced.kill();
    console.log(JSON.stringify({ functions: displayFrames(stack.frames ?? []).frames.map((frame) => frame.function), held }));
  `;
  const run = spawnSync('/bin/sh', ['-c', `ulimit -n ${soft} && exec "$@"`, 'sh', process.execPath, '--input-type=module', '-e', script, program, log], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`node under ulimit -n ${soft}: ${run.stderr}`);
  return JSON.parse(run.stdout) as { functions: string[]; held: number };
}

linux('under ulimit -n 48 the stack is read and nothing of it is kept open; under 1024 the process stays cached', (t) => {
  withTempDir('fdscan-native-stack', (dir) => {
    const program = build(dir);
    const log = join(dir, 'app.log');
    const tight = underLimit(48, program, log);
    t.deepEqual(tight.functions.slice(0, 2), ['open_the_log', 'main']);
    t.is(tight.held, 0);
    const roomy = underLimit(1024, program, log);
    t.deepEqual(roomy.functions.slice(0, 2), ['open_the_log', 'main']);
    t.true(roomy.held > 0);
  });
});

linux('a program whose path is not UTF-8: objectBytes holds its exact bytes, with either unwinder', (t) => {
  withTempDir('fdscan-native-stack', (dir) => {
    const built = build(dir);
    // /proc/PID/maps names the file itself: run through a UTF-8 symlink, the object is the real path.
    // (Not a newline: maps writes it as the four characters \012, for libdw and libunwind alike.)
    const odd = Buffer.concat([Buffer.from(`${dir}/odd-`), Buffer.from([0xff, 0xfe, 0x01]), Buffer.from('-dir')]);
    mkdirSync(odd);
    const real = Buffer.concat([odd, Buffer.from('/leaker')]);
    copyFileSync(built, real);
    symlinkSync(real, join(dir, 'link'));
    const expected = { object: real.toString('utf8'), objectBytes: real.toString('base64') };
    const own = (stack: NativeStack): StackFrame | undefined => displayFrames(framesOf(stack)).frames[0];
    t.like(own(stackAtOpen(join(dir, 'link'), dir).stack), { function: 'open_the_log', ...expected });
    const viaLibunwind = withLibraries({ libdw: 'libdw-missing-for-a-test.so.1' }, () => stackAtOpen(join(dir, 'link'), dir).stack);
    t.like(own(viaLibunwind), { function: 'open_the_log', ...expected });
    // A UTF-8 path has no bytes field.
    t.false('objectBytes' in own(stackAtOpen(built, dir).stack)!);
  });
});

linux('from a worker thread that is the tracer (as the tracer thread of fdscan): the stack, a deleted program too, and not a word on stderr', (t) => {
  withTempDir('fdscan-native-stack', (dir) => {
    const program = build(dir);
    const log = join(dir, 'app.log');
    const dist = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
    const worker = `
      import { unlinkSync } from 'node:fs';
      import { workerData } from 'node:worker_threads';
      const { readNativeStack, displayFrames, forgetAllNativeStacks } = await import(${JSON.stringify(join(dist, 'probes', 'linux', 'native-stack.js'))});
      const { stopAtOpen } = await import(${JSON.stringify(join(dist, 'test', 'helpers', 'stopped-at-open.js'))});
      const { program, log } = workerData;
      const traced = stopAtOpen(program, [log], log);
      unlinkSync(program);
      const stack = readNativeStack(traced.pid, traced.tid);
      forgetAllNativeStacks();
      console.log(JSON.stringify(displayFrames(stack.frames ?? []).frames.map((frame) => frame.function)));
      console.log(JSON.stringify(traced.detachAndWait()));
    `;
    const main = `
      import { Worker } from 'node:worker_threads';
      const [program, log] = process.argv.slice(1);
      new Worker(${JSON.stringify(worker)}, { eval: true, workerData: { program, log } }).on('error', (error) => { console.error(error); process.exitCode = 1; });
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', main, program, log], { encoding: 'utf8' });
    t.is(run.status, 0, run.stderr);
    t.is(run.stderr, '');
    const [functions, exit] = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown);
    t.deepEqual((functions as string[]).slice(0, 2), ['open_the_log', 'main']);
    t.deepEqual(exit, { kind: 'exited', code: 0 });
  });
});

linux('unwound at the stop, named afterwards: the same frames as readNativeStack, and a program rebuilt in place between the two is not named from the new file', (t) => {
  withTempDir('fdscan-native-stack-', (dir) => {
    const program = build(dir);
    const log = join(dir, 'app.log');
    const stopped = stopAtOpen(program, [log], log);
    let unwound: ReturnType<typeof unwindNativeStack>;
    let direct: NativeStack;
    try {
      unwound = unwindNativeStack(stopped.pid, stopped.pid);
      direct = readNativeStack(stopped.pid, stopped.pid);
      forgetNativeStacks(stopped.pid);
    } finally {
      stopped.detachAndWait();
    }
    if (!('frames' in unwound)) return t.fail(`no stack: ${unwound.reason}`);
    // At the stop: where each frame is, not what it is called.
    t.true(unwound.frames.every((frame) => frame.function === undefined && frame.file === undefined), JSON.stringify(unwound.frames));
    t.like(unwound.frames.find((frame) => frame.object === program), { unnamed: { activation: false } });
    // After the process is gone: the names readNativeStack gave at the stop.
    t.deepEqual(nameNativeStack(unwound.frames), direct);
    t.like(framesOf(nameNativeStack(unwound.frames))[1], { function: 'open_the_log', line: lineOf('OPEN') });
    // Rebuilt in place (same path and inode, other contents): its frames keep object and offset only.
    writeFileSync(join(dir, 'leaker.c'), LEAKER.replace('#include <unistd.h>', '#include <unistd.h>\nint padding(int x) { return x * 3 + 1; }'));
    const cc = spawnSync('sh', ['-c', `gcc -g -O0 -o ${dir}/rebuilt ${dir}/leaker.c && cat ${dir}/rebuilt > ${program}`], { encoding: 'utf8' });
    t.is(cc.status, 0, cc.stderr);
    const renamed = framesOf(nameNativeStack(unwound.frames)).filter((frame) => frame.object === program);
    t.true(renamed.length >= 2);
    t.true(renamed.every((frame) => frame.function === undefined && !('unnamed' in frame)), JSON.stringify(renamed));
  });
});
