/**
 * The call stack of a ptrace-stopped thread, for an origin: native frames (native-stack.ts, through
 * libdw or libunwind-ptrace) with, for a CPython process, its Python frames (python-frames.ts) put
 * first: `leak_it (app.py:12) <- main (app.py:20)` is what names the line to fix; the native frames
 * (the interpreter's) follow. The one door through which the tracer asks for a stack.
 */
import type { StackFrame } from '../../src/probe-kit/index.js';
import {
  forgetAllNativeStacks, forgetNamedObjects, forgetNativeStacks, nameNativeStack, nativeStackCached, nativeUnwinder, readNativeStack, unwindNativeStack, unwindsCached,
} from './native-stack.js';
import { forgetPythonProcess, readPythonFrames } from './python-frames.js';
import { readdirSync } from 'node:fs';
import { fcntlInt } from './libc-process.js';
import { linuxDescriptorLimits } from './limits.js';

const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
/** fdscan's own inheritable descriptors before any unwinder ran: what it received (ambient), to leave alone. */
let inheritableBefore: Set<number> | undefined;

/**
 * Run an unwinder, then make close-on-exec every inheritable descriptor of fdscan that was not
 * inheritable before the first one ran. Why besides native-stack.ts's own marking (descriptors that
 * appeared during a call): a number closed and opened again during one call (a cached process
 * evicted, another loaded) looks unchanged to a listing by number, and stayed inheritable, so that
 * the next command spawned received libdw's ELF files (seen in the trace tests).
 */
function closingOwnDescriptors<T>(body: () => T): T {
  const open = ownDescriptors();
  inheritableBefore ??= new Set(open.filter((fd) => (fcntlInt(fd, F_GETFD, 0) & FD_CLOEXEC) === 0));
  // Near the descriptor limit the unwinders' cached files go first: the tracer's table reads need them more.
  if (softLimit() - open.length < HEADROOM) forgetAllNativeStacks();
  try {
    return body();
  } finally {
    for (const fd of ownDescriptors()) {
      if (inheritableBefore.has(fd)) continue;
      const flags = fcntlInt(fd, F_GETFD, 0);
      if (flags >= 0 && (flags & FD_CLOEXEC) === 0) fcntlInt(fd, F_SETFD, flags | FD_CLOEXEC);
    }
  }
}

/** Descriptors kept free for the tracer before an unwinder may cache more files (a stack needs ~10 at most). */
const HEADROOM = 48;
let soft: number | undefined;

/** fdscan's soft descriptor limit (Infinity when unlimited or unreadable). */
function softLimit(): number {
  if (soft === undefined) {
    try {
      soft = linuxDescriptorLimits(process.pid).soft ?? Number.POSITIVE_INFINITY;
    } catch {
      soft = Number.POSITIVE_INFINITY;
    }
  }
  return soft;
}

function ownDescriptors(): number[] {
  try {
    return readdirSync('/proc/self/fd').map(Number);
  } catch {
    return [];
  }
}

/** Frames innermost first, or one word saying why there are none (`no-unwinder`, `no-symbols`, ...). */
export type OriginStack = { frames: StackFrame[] } | { reason: string };

/** The stack of thread `tid` of process `pid`, which must be in a ptrace stop of this thread's tracee. */
export function readOriginStack(pid: number, tid: number): OriginStack {
  const python = readPythonFrames(pid, tid);
  const native = closingOwnDescriptors(() => readNativeStack(pid, tid));
  const pythonFrames: StackFrame[] = 'frames' in python ? python.frames.map(({ function: name, file, line, object, offset }) => ({ function: name, object, offset, file, line })) : [];
  if ('frames' in native) return { frames: [...pythonFrames, ...native.frames] };
  return pythonFrames.length > 0 ? { frames: pythonFrames } : { reason: native.reason };
}

/**
 * The stack of a stopped thread as readOriginStack gives it, but its native frames only unwound
 * (`unnamed`): nameOriginStack names them later, once per distinct stack, from each object file
 * on disk. Python frames are read now (the process's memory is gone later).
 */
export function unwindOriginStack(pid: number, tid: number): OriginStack | { unnamed: StackFrame[] } {
  const python = readPythonFrames(pid, tid);
  // Why not always closingOwnDescriptors: its two listings of /proc/self/fd were a fifth of the
  // tracer's time in a make of 100 compiles (2,000 stops, nearly all in processes already cached).
  const native = unwindsCached(pid) || nativeUnwinder() === undefined ? unwindNativeStack(pid, tid) : closingOwnDescriptors(() => unwindNativeStack(pid, tid));
  const pythonFrames: StackFrame[] = 'frames' in python ? python.frames.map(({ function: name, file, line, object, offset }) => ({ function: name, object, offset, file, line })) : [];
  if ('frames' in native) return { unnamed: [...pythonFrames, ...native.frames] };
  return pythonFrames.length > 0 ? { frames: pythonFrames } : { reason: native.reason };
}

/** The frames of unwindOriginStack named: what readOriginStack would have said at the stop. */
export function nameOriginStack(frames: readonly StackFrame[]): OriginStack {
  const python = frames.filter((frame) => frame.object === PYTHON_OBJECT);
  const native = closingOwnDescriptors(() => nameNativeStack(frames.slice(python.length)));
  if ('frames' in native) return { frames: [...python, ...native.frames] };
  return python.length > 0 ? { frames: python } : { reason: native.reason };
}

let closing: NodeJS.Timeout | undefined;

/**
 * nameOriginStack for a report (OriginTracing.nameStack): the object files it opens stay open
 * for the next origins of the same report, and are closed a second after the last one.
 */
export function nameRecordedStack(frames: readonly StackFrame[]): OriginStack {
  const stack = nameOriginStack(frames);
  if (closing) clearTimeout(closing);
  closing = setTimeout(() => {
    closing = undefined;
    closingOwnDescriptors(forgetNamedObjects);
  }, 1000).unref();
  return stack;
}

/** The `object` of a Python frame (python-frames.ts). */
const PYTHON_OBJECT = 'python';

/** `pid` exec'd or exited: what was cached of its program is wrong now. */
export function forgetOriginStacks(pid: number): void {
  // Nothing cached (most processes of a build make no inheritable descriptor): no listing.
  if (nativeStackCached(pid)) closingOwnDescriptors(() => forgetNativeStacks(pid));
  forgetPythonProcess(pid);
}

/** The trace is over: close every cached process. */
export function forgetAllOriginStacks(): void {
  forgetAllNativeStacks();
}
