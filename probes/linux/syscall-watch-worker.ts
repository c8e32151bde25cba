/**
 * The live origin watcher's thread: attaches to every thread of a running process, follows it
 * syscall by syscall, notes where each descriptor is made, and detaches leaving it as it was.
 * ptrace ties a tracee to the thread that attached it, so every ptrace call happens here.
 *
 * Calls: PTRACE_SEIZE (TRACESYSGOOD|TRACECLONE|TRACEEXEC; never EXITKILL: if fdscan dies, the
 * kernel detaches and the process runs on) and PTRACE_INTERRUPT of each thread of
 * /proc/PID/task, listed again until no new one appears; PTRACE_SYSCALL, PTRACE_GET_SYSCALL_INFO
 * (Linux 5.3), PTRACE_LISTEN, PTRACE_GETEVENTMSG, PTRACE_DETACH; waitpid(-1, __WALL|__WNOTHREAD);
 * at the exit of a call that made a descriptor, stat of /proc/PID/fd/N (its inode, to match the
 * watch's rows), reads of /proc/PID/mem (the path, a pipe's pair) and the stack (origin-stack.ts:
 * libdw or libunwind-ptrace, and CPython's frames). No seccomp filter: one cannot be removed once installed.
 * Privileges: ptrace of the process (same user, not already traced, yama ptrace_scope allowing it, or root).
 *
 * What it keeps as it was: a signal-delivery stop passes its signal on (also at the detach); a
 * group-stop (Ctrl-Z, SIGSTOP) is kept with PTRACE_LISTEN and survives the detach; a blocking call
 * interrupted by PTRACE_INTERRUPT (read, accept, nanosleep) restarts transparently, as after any
 * ptrace stop. A process (not a thread) the tracee clones without SIGCHLD is detached at its first stop;
 * fork and vfork children are never attached (no TRACEFORK). Races: a thread made during the attach
 * shows on the next listing of /proc/PID/task (or through TRACECLONE); a thread that exits during it
 * is skipped; a new thread's first stop may come before its creator's clone event.
 *
 * Why waitpid polls (WNOHANG, then short sleeps when idle): a blocking waitpid cannot be woken
 * from the main thread when the watch ends. The sleep is short so an idle process waits at most
 * ~2 ms at its next syscall.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import {
  serializeError, osErrorName, FdscanError, NoSuchProcess, type OriginCall, type SerializedError,
} from '../../src/probe-kit/index.js';
import { errno } from './libc.js';
import { ptrace, waitpid } from './libc-process.js';
import { decodeWaitStatus } from './wait-status.js';
import { tracerOf } from './process-info.js';
import { changesExisting, describeCall, forgetStacks, lookAgainForPython, isDescriptorCall, parseSyscallInfo, procMemory, readStack, type SyscallEntry } from './syscall-watch-decode.js';
import { EVENT_CLONE, EVENT_EXEC, EVENT_STOP, PTRACE_DETACH, PTRACE_GETEVENTMSG, PTRACE_GET_SYSCALL_INFO, PTRACE_INTERRUPT, PTRACE_LISTEN, PTRACE_O_TRACECLONE, PTRACE_O_TRACEEXEC, PTRACE_O_TRACESYSGOOD, PTRACE_SEIZE, PTRACE_SYSCALL, WALL, WNOTHREAD, WNOHANG } from './ptrace-requests.js';

/** struct ptrace_syscall_info (<linux/ptrace.h>): 88 bytes with its largest member. */
const SYSCALL_INFO_BYTES = 88;
const SIG = constants.signals;
const SYSCALL_STOP = SIG.SIGTRAP | 0x80;
const JOB_CONTROL_STOPS = new Set<number>([SIG.SIGSTOP, SIG.SIGTSTP, SIG.SIGTTIN, SIG.SIGTTOU]);
const { EINTR, ECHILD, ESRCH } = constants.errno;
/** Empty polls before sleeping, and the sleeps (ms): short after activity, ~2 ms once idle. */
const SPIN_POLLS = 2000;
const SHORT_SLEEP_POLLS = 4000;
/** Descriptor calls after an exec during which the interpreter may not be loaded yet (the loader's, the runtime's start-up). */
const STARTUP_CALLS = 200;

/** What the main thread (syscall-watch.ts) gives: the pid and a shared word it sets to 1 to stop. */
export interface SyscallWatchRequest {
  pid: number;
  control: SharedArrayBuffer;
}

/** Messages this thread posts. */
export type SyscallWatchMessage =
  /** Every thread is followed; `held` are the descriptors (fd, inode) the process held then. */
  | { type: 'attached'; held: Array<[number, number | undefined]> }
  | { type: 'made'; fd: number; inode?: number; call: OriginCall }
  /** Close-on-exec of `fd` was cleared (`inheritable`), or set again, by `call`. */
  | { type: 'inheritable'; fd: number; inheritable: boolean; call: OriginCall }
  /** Every thread detached (`stopped`), or the process is gone (`exited`). */
  | { type: 'detached'; how: 'stopped' | 'exited' }
  | { type: 'error'; error: SerializedError };

function post(message: SyscallWatchMessage): void {
  parentPort!.postMessage(message);
}

function readArgv(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s, i, all) => s !== '' || i < all.length - 1);
  } catch {
    return [];
  }
}

function inodeOf(path: string): number | undefined {
  try { return statSync(path).ino; } catch { return undefined; }
}

/** The descriptors `pid` holds now, by number and inode. */
function heldDescriptors(pid: number): Array<[number, number | undefined]> {
  try {
    return readdirSync(`/proc/${pid}/fd`).map((n) => [Number(n), inodeOf(`/proc/${pid}/fd/${n}`)]);
  } catch {
    return [];
  }
}

/** A kernel thread: PF_KTHREAD (0x00200000) in the flags field of /proc/PID/stat. */
function isKernelThread(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const flags = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[6]);
    return (flags & 0x00200000) !== 0;
  } catch {
    return false;
  }
}

/** Why PTRACE_SEIZE of `pid` was refused, as one line. */
function refusal(pid: number, code: number): FdscanError {
  // A zombie (exited, not yet reaped by its parent) refuses with EPERM: it is no process to follow.
  if (code === ESRCH || threadEnded(pid, pid)) return new NoSuchProcess(pid);
  const name = osErrorName(code);
  const tracer = tracerOf(pid);
  let why: string;
  if (pid === process.pid) {
    why = 'it is fdscan itself';
  } else if (isKernelThread(pid)) {
    why = 'it is a kernel thread';
  } else if (tracer !== undefined && tracer !== 0) {
    let comm = '?';
    try { comm = readFileSync(`/proc/${tracer}/comm`, 'utf8').trim(); } catch { /* gone meanwhile */ }
    why = `it is already traced by ${tracer} (${comm}); a process has one tracer`;
  } else {
    let owner: number | undefined;
    try { owner = statSync(`/proc/${pid}`).uid; } catch { /* gone */ }
    let yama = '';
    try { yama = readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim(); } catch { /* no yama */ }
    const uid = process.getuid?.();
    if (owner !== undefined && uid !== 0 && owner !== uid) why = `it belongs to another user (uid ${owner})`;
    else if (yama !== '' && yama !== '0' && (yama === '3' || uid !== 0)) why = `yama ptrace_scope is ${yama}`;
    else why = 'a sandbox (seccomp, LSM) or a missing CAP_SYS_PTRACE';
  }
  return new FdscanError('ETRACE_REFUSED', `cannot follow pid ${pid} for --origins: ptrace refused (${name}: ${why})`);
}

function run(request: SyscallWatchRequest): void {
  const { pid } = request;
  const control = new Int32Array(request.control);
  const tids = new Set<number>();
  /** Stopped before their creator's clone event said what they are. */
  const heldNew = new Set<number>();
  /** Children that are processes, not threads: detached at their first stop. */
  const foreign = new Set<number>();
  /** The descriptor-making call each thread is inside, from its entry stop to its exit stop. */
  const entered = new Map<number, SyscallEntry>();
  /** Threads between a syscall's entry stop and its exit stop (only event stops come in between). */
  const insideCall = new Set<number>();
  const info = Buffer.alloc(SYSCALL_INFO_BYTES);
  const eventMessage = Buffer.alloc(8);
  const status = [0];
  const memory = procMemory(pid);
  let argv = readArgv(pid);
  /** Descriptor calls since an exec for which a stack without Python frames is not taken as final (lookAgainForPython). */
  let startingUp = 0;

  const resume = (tid: number, signal = 0): void => {
    ptrace(PTRACE_SYSCALL, tid, 0, signal); // ESRCH: killed meanwhile; its exit is reported next
  };
  const message = (tid: number): number => {
    eventMessage.fill(0);
    ptrace(PTRACE_GETEVENTMSG, tid, 0, eventMessage);
    return Number(eventMessage.readBigUInt64LE(0));
  };

  // Attach: seize and interrupt every thread; threads made meanwhile show on the next listing.
  for (let fresh = true; fresh;) {
    fresh = false;
    let listing: string[];
    try {
      listing = readdirSync(`/proc/${pid}/task`);
    } catch {
      if (tids.size === 0) throw new NoSuchProcess(pid);
      break;
    }
    for (const name of listing) {
      const tid = Number(name);
      if (tids.has(tid)) continue;
      if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC) !== 0) {
        const code = errno();
        // A thread that exited meanwhile: ESRCH once reaped, EPERM while it is an unreaped zombie thread.
        if (tids.size > 0 && (code === ESRCH || threadEnded(pid, tid))) continue;
        if (tids.size > 0) detachAll();
        throw refusal(pid, code);
      }
      ptrace(PTRACE_INTERRUPT, tid, 0, 0);
      tids.add(tid);
      fresh = true;
    }
  }
  post({ type: 'attached', held: heldDescriptors(pid) });

  /** Leave every thread: interrupt the running ones, detach each at its next stop, passing a pending signal on. */
  function detachAll(): void {
    /** Detached already: a thread whose first stop came before its creator's clone event is not waited for again. */
    const done = new Set<number>();
    for (const tid of heldNew) { ptrace(PTRACE_DETACH, tid, 0, 0); done.add(tid); }
    heldNew.clear();
    for (const tid of tids) ptrace(PTRACE_INTERRUPT, tid, 0, 0);
    const pending = new Set(tids);
    while (pending.size > 0) {
      const tid = waitpid(-1, status, WALL | WNOTHREAD);
      if (tid === -1) {
        if (errno() === EINTR) continue;
        break; // ECHILD: none left
      }
      const state = decodeWaitStatus(status[0]!);
      pending.delete(tid);
      if (state.kind !== 'stopped') { tids.delete(tid); continue; }
      if (state.event === EVENT_CLONE) {
        // A thread made at the last moment: it is attached too, and detached at its first stop.
        const child = message(tid);
        if (!done.has(child)) pending.add(child);
      }
      const signalStop = state.event === 0 && state.signal !== SYSCALL_STOP;
      ptrace(PTRACE_DETACH, tid, 0, signalStop ? state.signal : 0);
      done.add(tid);
      tids.delete(tid);
    }
  }

  let idle = 0;
  let how: 'stopped' | 'exited' = 'stopped';
  for (;;) {
    if (Atomics.load(control, 0) !== 0) break;
    const tid = waitpid(-1, status, WALL | WNOTHREAD | WNOHANG);
    if (tid === 0) {
      idle++;
      if (idle > SPIN_POLLS) Atomics.wait(control, 0, 0, idle > SHORT_SLEEP_POLLS ? 2 : 0.1);
      continue;
    }
    idle = 0;
    if (tid === -1) {
      const code = errno();
      if (code === EINTR) continue;
      if (code === ECHILD) { how = 'exited'; break; }
      throw new Error(`waitpid: ${osErrorName(code)}`);
    }
    const state = decodeWaitStatus(status[0]!);
    if (state.kind !== 'stopped') {
      tids.delete(tid);
      entered.delete(tid);
      insideCall.delete(tid);
      heldNew.delete(tid);
      foreign.delete(tid);
      if (tids.size === 0 && heldNew.size === 0) { how = 'exited'; break; }
      continue;
    }
    if (foreign.delete(tid)) { ptrace(PTRACE_DETACH, tid, 0, 0); continue; }
    switch (state.event) {
      case EVENT_CLONE: {
        const child = message(tid);
        if (existsTask(pid, child)) {
          // A new thread: resumed at its first stop (PTRACE_EVENT_STOP), which may already have come.
          tids.add(child);
          if (heldNew.delete(child)) resume(child);
        } else if (heldNew.delete(child)) {
          ptrace(PTRACE_DETACH, child, 0, 0);
        } else {
          foreign.add(child);
        }
        resume(tid);
        break;
      }
      case EVENT_EXEC: {
        // After exec the process has one thread, whose id is the pid; the others are gone.
        const former = message(tid);
        if (former !== tid) tids.delete(former);
        for (const other of [...tids]) if (other !== tid && !existsTask(pid, other)) tids.delete(other);
        tids.add(tid);
        entered.clear();
        argv = readArgv(pid);
        forgetStacks(pid);
        memory.close();
        startingUp = STARTUP_CALLS;
        resume(tid);
        break;
      }
      case EVENT_STOP:
        if (!tids.has(tid)) {
          // A new task reporting its first stop before its creator's clone event.
          if (existsTask(pid, tid)) { tids.add(tid); resume(tid); } else heldNew.add(tid);
        } else if (JOB_CONTROL_STOPS.has(state.signal)) {
          // A group-stop (also one in force at the attach): stay stopped, let SIGCONT be reported.
          ptrace(PTRACE_LISTEN, tid, 0, 0);
        } else {
          // The attach's interrupt, a new thread's first stop (SIGTRAP for a seized tracee), or SIGCONT reaching a stopped thread.
          resume(tid);
        }
        break;
      default:
        if (state.signal === SYSCALL_STOP) {
          syscallStop(tid);
          resume(tid);
        } else {
          resume(tid, state.signal); // a signal-delivery stop: the signal goes on unchanged
        }
    }
  }
  if (how === 'stopped') detachAll();
  memory.close();
  forgetStacks(pid);
  post({ type: 'detached', how });

  function syscallStop(tid: number): void {
    // The stop after an entry stop is that call's exit: for a call that makes no descriptor there
    // is nothing to read there. Unknown (a thread's first syscall stop) or after an exit: ask.
    if (insideCall.delete(tid) && !entered.has(tid)) return;
    info.fill(0);
    if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, SYSCALL_INFO_BYTES, info) <= 0) return;
    const parsed = parseSyscallInfo(info);
    if (parsed.op === 'entry') {
      insideCall.add(tid);
      if (isDescriptorCall(parsed)) entered.set(tid, parsed);
      else entered.delete(tid);
      return;
    }
    const entry = entered.get(tid);
    entered.delete(tid);
    if (parsed.op !== 'exit' || entry === undefined || parsed.isError) return;
    const call = describeCall(entry, parsed.value, memory);
    if (!call || call.fds.length === 0) return;
    const { stack, missing } = readStack(pid, tid);
    if (startingUp > 0) {
      startingUp--;
      if (!stack.some((frame) => frame.object === 'python')) lookAgainForPython(pid);
      else startingUp = 0;
    }
    const origin = (fd: number): OriginCall => ({
      pid, argv, syscall: call.syscall, flags: call.flags, fd,
      ...(call.path !== undefined ? { path: call.path } : {}), ...(call.pathBytes !== undefined ? { pathBytes: call.pathBytes } : {}),
      ...(call.peer !== undefined ? { peer: call.peer } : {}), stack, ...(missing ? { stackUnknown: missing } : {}),
    });
    if (changesExisting(call)) {
      post({ type: 'inheritable', fd: call.fds[0]!, inheritable: call.inheritable, call: origin(call.fds[0]!) });
      return;
    }
    for (const fd of call.fds) {
      const inode = inodeOf(`/proc/${pid}/fd/${fd}`);
      if (inode === undefined) continue; // closed by another thread already
      post({ type: 'made', fd, inode, call: origin(fd) });
    }
  }
}

/** Has thread `tid` of `pid` ended (gone, a zombie, or dead)? */
function threadEnded(pid: number, tid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return true;
  }
}

/** Is `tid` a thread of `pid` (its /proc/PID/task entry exists)? */
function existsTask(pid: number, tid: number): boolean {
  try {
    statSync(`/proc/${pid}/task/${tid}`);
    return true;
  } catch {
    return false;
  }
}

try {
  run(workerData as SyscallWatchRequest);
} catch (error) {
  post({ type: 'error', error: serializeError(error) });
}
