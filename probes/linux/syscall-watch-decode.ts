/**
 * What the live origin watcher (syscall-watch-worker.ts) needs to know of a syscall, in one place:
 * which calls make a descriptor and what one made (descriptor-calls.ts, shared with the exact
 * tracer), and the stack of the stopped thread: its Python frames (python-frames.ts) where it runs
 * CPython, then its native frames (native-stack.ts).
 */
import type { StackFrame } from '../../src/probe-contract.js';
import { archOf, describeCall, descriptorCall, parseSyscallInfo, procMemory, type CallDescription, type MemoryReader, type SyscallEntry } from './descriptor-calls.js';
import { forgetNativeStacks, readNativeStack } from './native-stack.js';
import { forgetPythonProcess, readPythonFrames } from './python-frames.js';

export { describeCall, parseSyscallInfo, procMemory, type CallDescription, type MemoryReader, type SyscallEntry };

/** Whether the watcher keeps this entry until its exit: a call that makes a descriptor or clears close-on-exec. */
export function isDescriptorCall(entry: SyscallEntry): boolean {
  const arch = archOf(entry.auditArch);
  return arch !== undefined && descriptorCall(arch, entry.nr) !== undefined;
}

/** The call cleared close-on-exec of an existing descriptor (fcntl F_SETFD, ioctl FIONCLEX) rather than making one. */
export function changesExisting(call: CallDescription): boolean {
  return (call.syscall === 'fcntl' || call.syscall === 'ioctl') && call.sourceFd === undefined;
}

/**
 * The stack of stopped thread `tid` of `pid`, innermost first: the Python frames of a CPython
 * thread (the program's own code), then the native frames; `missing` says in one word why there is none.
 */
export function readStack(pid: number, tid: number): { stack: StackFrame[]; missing?: string } {
  const python = readPythonFrames(pid, tid);
  const pythonFrames: StackFrame[] = 'frames' in python ? python.frames : [];
  const native = readNativeStack(pid, tid);
  if ('reason' in native) return pythonFrames.length > 0 ? { stack: pythonFrames } : { stack: [], missing: native.reason };
  return { stack: [...pythonFrames, ...native.frames.map((f) => ({ ...f, function: f.function ?? '??' }))] };
}

/** Drop what the unwinder keeps of `pid` (at its exec, and when the watch ends). */
export function forgetStacks(pid: number): void {
  forgetNativeStacks(pid);
  forgetPythonProcess(pid);
}
