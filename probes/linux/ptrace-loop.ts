/**
 * The exact tracer: ptrace from one thread (the tracer worker), synchronous calls only.
 *
 * Calls: PTRACE_SEIZE (TRACEEXEC|TRACEFORK|TRACEVFORK|TRACECLONE|TRACEEXIT|EXITKILL|TRACESYSGOOD) on
 * the stopped stub (spawn-stopped.ts), PTRACE_CONT / PTRACE_LISTEN / PTRACE_GETEVENTMSG, and
 * waitpid(-1, __WALL|__WNOTHREAD); PTRACE_SYSCALL / PTRACE_GET_SYSCALL_INFO (Linux 5.3) only for
 * programs that import ptrace (ptrace-users.ts). Privileges: ptrace of one's own child; refused
 * under yama ptrace_scope 3, seccomp sandboxes or without CAP_SYS_PTRACE in some containers (EPERM).
 *
 * Why waiting on -1 is safe here: __WNOTHREAD limits waitpid to children and tracees of the
 * calling thread. The stub was spawned by this thread and every tracee is attached to it; libuv's
 * children belong to the main thread, and libuv waits for them by pid, never for ours.
 *
 * Races handled: a new child may report its first stop before its parent reports the fork event;
 * it is held stopped until the fork is recorded, so its exec cannot come first. Each table is read
 * while its process is in a ptrace stop, so it cannot change under the read. EXITKILL: if fdscan
 * dies, the kernel kills the traced tree instead of leaving it stopped.
 */
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { errno } from './libc.js';
import { kill, ptrace, waitpid } from './libc-process.js';
import { OsError, osErrorName, type TraceRecorder } from '../../src/probe-kit/index.js';
import { decodeWaitStatus } from './wait-status.js';
import { PtraceUsers } from './ptrace-users.js';
import { OriginStops } from './origin-stops.js';
import type { DescriptorLock } from './descriptor-lock.js';
import { EVENT_CLONE, EVENT_EXEC, EVENT_EXIT, EVENT_FORK, EVENT_SECCOMP, EVENT_STOP, EVENT_VFORK, PTRACE_CONT, PTRACE_GETEVENTMSG, PTRACE_LISTEN, PTRACE_O_EXITKILL, PTRACE_O_TRACECLONE, PTRACE_O_TRACEEXEC, PTRACE_O_TRACEEXIT, PTRACE_O_TRACEFORK, PTRACE_O_TRACESECCOMP, PTRACE_O_TRACESYSGOOD, PTRACE_O_TRACEVFORK, PTRACE_SEIZE, PTRACE_SYSCALL, WALL, WNOTHREAD } from './ptrace-requests.js';

const { EINTR, ECHILD } = constants.errno;
const SIG = constants.signals;
const JOB_CONTROL_STOPS = new Set<number>([SIG.SIGSTOP, SIG.SIGTSTP, SIG.SIGTTIN, SIG.SIGTTOU]);

/**
 * Attach to the stopped stub; returns the errno name when ptrace is refused. Without `exitStops`
 * no process stops at its exit (no `exit.held`), one stop and one table read fewer per process.
 * `seccompStops`: the stub carries the origins filter (seccomp-filter.ts), whose stops are reported.
 */
export function seize(pid: number, exitStops: boolean, seccompStops = false): string | undefined {
  const options = PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE
    | (exitStops ? PTRACE_O_TRACEEXIT : 0) | PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD
    | (seccompStops ? PTRACE_O_TRACESECCOMP : 0);
  if (ptrace(PTRACE_SEIZE, pid, 0, options) === 0) return undefined;
  return osErrorName(errno());
}

/** Hooks the worker gives the loop: tell the main thread about processes as they come and go. */
export interface LoopHooks {
  /** A new process; `parent` is given when it is reported at its parent's fork event (both stopped). */
  onProcess(pid: number, parent?: number): void;
  onExit(pid: number): void;
  /** The root entered a group-stop (Ctrl-Z, SIGSTOP, a background read of the terminal): `signal` stopped it. */
  onRootStop?(signal: number): void;
  /** The root was sent SIGCONT (it may not have been stopped). */
  onRootContinue?(): void;
}

/**
 * Trace until no tracee is left. The root is seized and stopped; it is resumed here.
 * Returns the root's wait status.
 */
export function runPtraceLoop(root: number, recorder: TraceRecorder, hooks: LoopHooks, options: { origins?: boolean; descriptorLock?: DescriptorLock } = {}): { code?: number; signal?: number } {
  /** Thread id -> its thread group id, for tracees that are threads, not processes. */
  const threads = new Map<number, number>();
  /** New tracees held in their first stop until their parent's fork event is recorded. */
  const heldNew = new Set<number>();
  /** Known tracees whose first (attach) stop is still to come: resume it, do not treat it as job control. */
  const awaitingFirstStop = new Set<number>([root]);
  const eventMessage = Buffer.alloc(8);
  const status = [0];
  let rootStatus: { code?: number; signal?: number } = {};
  const ptraceUsers = new PtraceUsers(recorder, (tid) => threads.get(tid) ?? tid, options.origins === true);
  const origins = options.origins ? new OriginStops(recorder, (tid) => threads.get(tid) ?? tid, options.descriptorLock) : undefined;

  const resume = (pid: number, signal = 0): void => {
    // ESRCH: killed meanwhile (SIGKILL); its exit is reported next. A call stopped by the origins
    // filter is resumed to its exit stop.
    ptrace(origins?.awaitingExit(pid) ? PTRACE_SYSCALL : ptraceUsers.resumeRequest(pid), pid, 0, signal);
  };
  const message = (pid: number): number => {
    eventMessage.fill(0);
    ptrace(PTRACE_GETEVENTMSG, pid, 0, eventMessage);
    return Number(eventMessage.readBigUInt64LE(0));
  };

  // The stub stopped itself (group-stop). Once seized, SIGCONT ends the stop; the tracer then sees
  // the attach stop (resumed below) and the SIGCONT delivery (passed on), then the exec of CMD.
  kill(root, SIG.SIGCONT);

  for (;;) {
    const pid = waitpid(-1, status, WALL | WNOTHREAD);
    if (pid === -1) {
      const code = errno();
      if (code === EINTR) continue;
      if (code === ECHILD) break;
      throw new OsError('waitpid', code);
    }
    const state = decodeWaitStatus(status[0]!);
    if (state.kind !== 'stopped') {
      ptraceUsers.gone(pid);
      origins?.gone(pid);
      if (threads.delete(pid)) continue;
      heldNew.delete(pid);
      origins?.forget(pid);
      const code = state.kind === 'exited' ? state.code : undefined;
      const signal = state.kind === 'killed' ? state.signal : undefined;
      if (recorder.exited(pid, code, signal)) hooks.onExit(pid);
      if (pid === root) rootStatus = { code, signal };
      continue;
    }

    switch (state.event) {
      case EVENT_FORK:
      case EVENT_VFORK:
      case EVENT_CLONE: {
        const child = message(pid);
        // Any of the three events can create a thread (clone(2) with CLONE_THREAD, whatever its
        // exit signal), which then belongs to the creator's thread group.
        const tgid = threads.get(pid) ?? pid;
        if (isThreadOf(child, tgid)) {
          threads.set(child, tgid);
        } else {
          const kind = state.event === EVENT_FORK ? 'fork' : state.event === EVENT_VFORK ? 'vfork' : 'clone';
          recorder.fork(threads.get(pid) ?? pid, child, kind);
          hooks.onProcess(child, pid);
        }
        ptraceUsers.inherit(pid, child);
        if (heldNew.delete(child)) resume(child);
        else awaitingFirstStop.add(child);
        resume(pid);
        break;
      }
      case EVENT_EXEC: {
        // After exec the process has one thread, whose id is the group id `pid`.
        for (const [tid, tgid] of threads) if (tgid === pid) threads.delete(tid);
        recorder.exec(pid);
        ptraceUsers.exec(pid);
        origins?.gone(pid);
        origins?.forget(pid);
        resume(pid);
        break;
      }
      case EVENT_EXIT:
        origins?.gone(pid);
        if (!threads.has(pid)) recorder.exiting(pid);
        resume(pid);
        break;
      case EVENT_SECCOMP: {
        // The filter stopped a call that can make an inheritable descriptor: on to its exit stop.
        const stopped = origins?.seccompStop(pid);
        if (typeof stopped === 'object') ptraceUsers.seccompEntry(pid, stopped.ptrace.args);
        if (stopped) ptrace(PTRACE_SYSCALL, pid, 0, 0);
        else resume(pid);
        break;
      }
      case EVENT_STOP:
        if (awaitingFirstStop.delete(pid)) {
          resume(pid);
        } else if (!recorder.isLive(pid) && !threads.has(pid)) {
          // A new tracee whose parent has not reported the fork yet.
          heldNew.add(pid);
        } else if (JOB_CONTROL_STOPS.has(state.signal)) {
          // A real group-stop (Ctrl-Z, SIGSTOP): stay stopped, but let SIGCONT be reported.
          ptrace(PTRACE_LISTEN, pid, 0, 0);
          if (pid === root) hooks.onRootStop?.(state.signal);
        } else {
          // SIGTRAP: a SIGCONT reached a seized tracee (a stopped one leaves its group-stop); the
          // SIGCONT itself is delivered next, as a signal-delivery stop.
          resume(pid);
          if (pid === root) hooks.onRootContinue?.();
        }
        break;
      default:
        if (ptraceUsers.isSyscallStop(state.signal)) {
          if (!origins?.exitStop(pid)) ptraceUsers.syscallStop(pid);
          resume(pid);
          break;
        }
        // Signal-delivery stop: pass the signal on unchanged.
        resume(pid, state.signal);
    }
  }
  origins?.close();
  if (origins && recorder.originTracing) recorder.originTracing.stops = origins.stops;
  return rootStatus;
}

/**
 * Is task `tid` another thread of group `tgid`? /proc/TGID/task/TID exists only for the group's
 * own threads: one lookup instead of reading /proc/TID/status (false when it already exited).
 */
function isThreadOf(tid: number, tgid: number): boolean {
  return tid !== tgid && existsSync(`/proc/${tgid}/task/${tid}`);
}
