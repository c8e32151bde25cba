/**
 * The tracer's side of origins: at each seccomp stop (the filter of seccomp-filter.ts stopped a call
 * that can make an inheritable descriptor) read the call's entry and resume to its exit stop; there
 * read its result, describe it (descriptor-calls.ts), unwind the thread's stack (origin-stack.ts) and
 * record the origin (TraceRecorder.made). The frames are named (function, file, line) only when a
 * report shows the origin (OriginIndex, through OriginTracing.nameStack set by tracer.ts), each
 * object file's symbols read once for the whole tree.
 *
 * Calls: PTRACE_GET_SYSCALL_INFO at both stops, PTRACE_SYSCALL from the seccomp stop (the caller
 * resumes), pread of /proc/TID/mem (paths, pipe pairs, received descriptors), /proc/PID/fdinfo/N (was
 * the descriptor made inheritable again close-on-exec before?), a stat of /proc/PID/fd/N (its inode,
 * to check what an exec received against the record). Privileges: those of its tracer.
 * Races: none within the stopped thread; another thread of the process may close or replace the
 * descriptor between the exit stop and the stat, which the inode check then catches.
 */
import { statSync } from 'node:fs';
import { readFdInfo } from './descriptor-files.js';
import { inheritable } from './open-flags.js';
import { ptrace } from './libc-process.js';
import type { TraceRecorder } from '../../src/probe-kit/index.js';
import {
  PTRACE_GET_SYSCALL_INFO, SYSCALL_INFO_BYTES, archOf, describeCall, descriptorCall, parseSyscallInfo, procMemory,
  type SyscallEntry,
} from './descriptor-calls.js';
import { forgetAllOriginStacks, forgetOriginStacks, unwindOriginStack } from './origin-stack.js';
import { PTRACE_NR } from './seccomp-filter.js';
import { withDescriptorLock, type DescriptorLock } from './descriptor-lock.js';

/** Calls stopped at their seccomp stop and not yet at their exit stop, by thread. */
export class OriginStops {
  private readonly pending = new Map<number, { entry: SyscallEntry; wasCloseOnExec?: boolean }>();
  private readonly info = Buffer.alloc(SYSCALL_INFO_BYTES);
  /** Seccomp stops taken. */
  stops = 0;

  constructor(private readonly recorder: TraceRecorder, private readonly processOf: (tid: number) => number, private readonly lock?: DescriptorLock) {}

  /** Whether `tid` must be resumed with PTRACE_SYSCALL: its call's exit stop is still to come. */
  awaitingExit(tid: number): boolean {
    return this.pending.has(tid);
  }

  /**
   * A seccomp stop of `tid`: note the call; the caller resumes it with PTRACE_SYSCALL. Returns
   * `ptrace` for a ptrace call (its entry, for PtraceUsers.entered), false when it is neither.
   */
  seccompStop(tid: number): boolean | { ptrace: SyscallEntry } {
    this.stops++;
    const info = parseSyscallInfo(this.read(tid));
    if (info.op !== 'seccomp') return false;
    const arch = archOf(info.auditArch);
    if (arch && info.nr === PTRACE_NR[arch]) return { ptrace: info };
    const call = arch && descriptorCall(arch, info.nr);
    if (!call) return false;
    const pending: { entry: SyscallEntry; wasCloseOnExec?: boolean } = { entry: info };
    // A call that makes an existing descriptor inheritable: was it close-on-exec until now?
    if (call.kind === 'dup' || call.kind === 'fcntl' || call.kind === 'ioctl') {
      pending.wasCloseOnExec = closeOnExec(this.processOf(tid), Number(BigInt.asUintN(32, info.args[0]!)));
    }
    this.pending.set(tid, pending);
    return true;
  }

  /** A syscall stop of `tid`: when it is the exit of a noted call, record its origin and return true. */
  exitStop(tid: number): boolean {
    const pending = this.pending.get(tid);
    if (!pending) return false;
    this.pending.delete(tid);
    const info = parseSyscallInfo(this.read(tid));
    if (info.op !== 'exit') return true;
    const pid = this.processOf(tid);
    const memory = procMemory(tid);
    let description;
    try {
      description = describeCall(pending.entry, info.value, memory);
    } finally {
      memory.close();
    }
    if (!description || !description.inheritable || description.fds.length === 0) return true;
    const stack = withDescriptorLock(this.lock, () => unwindOriginStack(pid, tid));
    this.recorder.made(pid, {
      ...description,
      inodes: description.fds.map((fd) => inodeOf(pid, fd)),
      ...(pending.wasCloseOnExec !== undefined ? { wasCloseOnExec: pending.wasCloseOnExec } : {}),
    }, stack);
    return true;
  }

  /** `tid` exited or exec'd: a call it was in will have no exit stop. */
  gone(tid: number): void {
    this.pending.delete(tid);
  }

  /** Process `pid` exec'd or exited: its cached stacks are of another program now. */
  forget(pid: number): void {
    forgetOriginStacks(pid);
  }

  /** The trace is over: close what the unwinders hold (the stacks are named later, as reports ask: nameOriginStacks). */
  close(): void {
    forgetAllOriginStacks();
  }

  private read(tid: number): Buffer {
    this.info.fill(0);
    ptrace(PTRACE_GET_SYSCALL_INFO, tid, SYSCALL_INFO_BYTES, this.info);
    return this.info;
  }
}

/** Whether descriptor `fd` of `pid` is close-on-exec (fdinfo's flags hold O_CLOEXEC); undefined when unreadable. */
function closeOnExec(pid: number, fd: number): boolean | undefined {
  try {
    return !inheritable(readFdInfo(pid, fd).flags);
  } catch {
    return undefined;
  }
}

function inodeOf(pid: number, fd: number): number | undefined {
  try {
    return statSync(`/proc/${pid}/fd/${fd}`, { throwIfNoEntry: false })?.ino;
  } catch {
    return undefined;
  }
}
