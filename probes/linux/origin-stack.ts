/**
 * The call stack of a ptrace-stopped thread, for an origin: native frames (native-stack.ts, through
 * libunwind-ptrace or libdw) with the interpreter's frames (python-frames.ts) put in front where the
 * thread runs CPython. The one door through which the tracer asks for a stack: until those modules
 * are merged it answers `no-unwinder`.
 */
import type { StackFrame } from '../../src/trace/trace-result.js';

/** Frames innermost first, or one word saying why there are none (`no-unwinder`, `no-symbols`, ...). */
export type OriginStack = { frames: StackFrame[] } | { reason: string };

/** The stack of thread `tid` of process `pid`, which must be in a ptrace stop of this thread's tracee. */
export function readOriginStack(_pid: number, _tid: number): OriginStack {
  return { reason: 'no-unwinder' };
}
