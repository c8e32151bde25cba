/**
 * What the live origin watcher (syscall-watch-worker.ts) needs to know of a syscall, in one place:
 * which calls make a descriptor and what one made (descriptor-calls.ts, shared with the exact
 * tracer), and the stack of the stopped thread: its Python frames (python-frames.ts) where it runs
 * CPython, then its native frames (native-stack.ts).
 */
import type { StackFrame } from '../../src/probe-kit/index.js';
import { archOf, describeCall, descriptorCall, parseSyscallInfo, procMemory, type CallDescription, type MemoryReader, type SyscallEntry } from './descriptor-calls.js';
import { forgetOriginStacks, readOriginStack } from './origin-stack.js';
import { forgetPythonProcess } from './python-frames.js';

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

/** The stack of stopped thread `tid` of `pid`, innermost first (Python frames first: origin-stack.ts); `missing` says in one word why there is none. */
export function readStack(pid: number, tid: number): { stack: StackFrame[]; missing?: string } {
  const stack = readOriginStack(pid, tid);
  return 'reason' in stack ? { stack: [], missing: stack.reason } : { stack: stack.frames };
}

/**
 * Forget whether `pid` runs Python, to look again at the next stack: right after an exec, the
 * loader's own opens come before the interpreter (libpython) is mapped, and the first look would
 * say "not Python" for good (python-frames.ts caches it until the next exec).
 */
export function lookAgainForPython(pid: number): void {
  forgetPythonProcess(pid);
}

/** Drop what the unwinders keep of `pid` (at its exec, and when the watch ends). */
export function forgetStacks(pid: number): void {
  forgetOriginStacks(pid);
}
