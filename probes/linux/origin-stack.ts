/**
 * The call stack of a ptrace-stopped thread, for an origin: native frames (native-stack.ts, through
 * libdw or libunwind-ptrace) with, for a CPython process, its Python frames (python-frames.ts) put
 * first: `leak_it (app.py:12) <- main (app.py:20)` is what names the line to fix; the native frames
 * (the interpreter's) follow. The one door through which the tracer asks for a stack.
 */
import type { StackFrame } from '../../src/trace/trace-result.js';
import { forgetAllNativeStacks, forgetNativeStacks, readNativeStack } from './native-stack.js';
import { forgetPythonProcess, readPythonFrames } from './python-frames.js';

/** Frames innermost first, or one word saying why there are none (`no-unwinder`, `no-symbols`, ...). */
export type OriginStack = { frames: StackFrame[] } | { reason: string };

/** The stack of thread `tid` of process `pid`, which must be in a ptrace stop of this thread's tracee. */
export function readOriginStack(pid: number, tid: number): OriginStack {
  const python = readPythonFrames(pid, tid);
  const native = readNativeStack(pid, tid);
  const pythonFrames: StackFrame[] = 'frames' in python ? python.frames.map(({ function: name, file, line, object, offset }) => ({ function: name, object, offset, file, line })) : [];
  if ('frames' in native) return { frames: [...pythonFrames, ...native.frames] };
  return pythonFrames.length > 0 ? { frames: pythonFrames } : { reason: native.reason };
}

/** `pid` exec'd or exited: what was cached of its program is wrong now. */
export function forgetOriginStacks(pid: number): void {
  forgetNativeStacks(pid);
  forgetPythonProcess(pid);
}

/** The trace is over: close every cached process. */
export function forgetAllOriginStacks(): void {
  forgetAllNativeStacks();
}
