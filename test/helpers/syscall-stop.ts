/**
 * Holds one thread of a running process in a ptrace stop while a test reads it: at the exit of its
 * next openat of a given path (PTRACE_SYSCALL + PTRACE_GET_SYSCALL_INFO, as origin tracing stops a
 * thread), or wherever it is (PTRACE_INTERRUPT). Synchronous from the calling thread, which is the
 * tracer: attach, stop, read, detach all happen in one turn of the event loop, so libuv's own
 * waitpid for its children never sees a ptrace stop.
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { constants } from 'node:os';
import { errno } from '../../probes/linux/libc.js';
import { kill, ptrace, waitpid } from '../../probes/linux/libc-process.js';
import { decodeWaitStatus } from '../../probes/linux/wait-status.js';
import { PTRACE_DETACH, PTRACE_GET_SYSCALL_INFO, PTRACE_INTERRUPT, PTRACE_O_TRACEEXEC, PTRACE_O_TRACESYSGOOD, PTRACE_SEIZE, PTRACE_SYSCALL, WALL, WNOHANG } from '../../probes/linux/ptrace-requests.js';

/** An exec is an event stop, not the SIGTRAP a tracee without it is sent (and would die of). */
const WAIT_MS = 20_000;
const pause = new Int32Array(new SharedArrayBuffer(4));
const SYSCALL_STOP = constants.signals.SIGTRAP | 0x80;
const INFO_ENTRY = 1;
const INFO_EXIT = 2;
const OPENAT: Partial<Record<string, number>> = { x64: 257, arm64: 56, riscv64: 56, loong64: 56 };
/** Enough stops for the fixtures' loops (a few calls every 5 ms) to reach the wanted call many times. */
const MAX_STOPS = 200_000;

function attach(tid: number): void {
  if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC) !== 0) throw new Error(`PTRACE_SEIZE ${tid}: errno ${errno()}`);
}

/** A stop of `tid`; polled, so that a tracee that never stops fails the test instead of hanging it (ava cannot time out synchronous code). */
function wait(tid: number): ReturnType<typeof decodeWaitStatus> {
  const status = [0];
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const r = waitpid(tid, status, WALL | WNOHANG);
    if (r === tid) return decodeWaitStatus(status[0]!);
    if (r === 0 && Date.now() < deadline) {
      Atomics.wait(pause, 0, 0, 1);
      continue;
    }
    if (r === -1 && errno() === constants.errno.EINTR) continue;
    throw new Error(r === 0 ? `thread ${tid} did not stop within ${WAIT_MS} ms` : `waitpid ${tid}: errno ${errno()}`);
  }
}

/** Read a NUL-terminated path (at most 256 bytes) from the tracee's memory. */
function readPath(pid: number, address: bigint): string {
  const fd = openSync(`/proc/${pid}/mem`, 'r');
  try {
    const buffer = Buffer.alloc(256);
    const got = readSync(fd, buffer, 0, buffer.length, Number(address));
    const end = buffer.indexOf(0);
    return buffer.toString('latin1', 0, end >= 0 && end < got ? end : got);
  } catch {
    return '';
  } finally {
    closeSync(fd);
  }
}

/** Run `body` while thread `tid` of `pid` is stopped at the exit of an openat of `path`; then let it go. */
export function atOpenExit<T>(pid: number, tid: number, path: string, body: () => T): T {
  return atOpenExits(pid, tid, [[path, body]])[0]!;
}

/**
 * Stop thread `tid` of `pid` at the exit of an openat of each path in turn (a string, or a test of
 * the path), run that step's body there, and let it go after the last; the bodies' results.
 * `stopped`: the process stopped itself (SIGSTOP) to be attached to; it is sent SIGCONT once
 * attached, or its group-stop would hold every thread it starts.
 */
export function atOpenExits<T>(pid: number, tid: number, steps: Array<[string | ((path: string) => boolean), () => T]>, stopped = false): T[] {
  const openat = OPENAT[process.arch];
  if (openat === undefined) throw new Error(`no openat number for ${process.arch}`);
  const results: T[] = [];
  attach(tid);
  try {
    ptrace(PTRACE_INTERRUPT, tid, 0, 0);
    wait(tid);
    if (stopped) kill(pid, constants.signals.SIGCONT);
    const info = Buffer.alloc(88);
    let entered = false;
    let signal = 0;
    for (let stops = 0; stops < MAX_STOPS; stops++) {
      ptrace(PTRACE_SYSCALL, tid, 0, signal);
      signal = 0;
      const state = wait(tid);
      if (state.kind !== 'stopped') throw new Error(`thread ${tid} ended while traced`);
      if (state.signal !== SYSCALL_STOP) {
        // A signal on its way to the thread is passed on; the seize's own event stops are not signals.
        if (state.event === 0) signal = state.signal;
        continue;
      }
      if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, info.length, info) <= 0) continue;
      const op = info[0];
      const [wanted, body] = steps[results.length]!;
      if (op === INFO_ENTRY) {
        const path = Number(info.readBigUInt64LE(24)) === openat ? readPath(pid, info.readBigUInt64LE(32 + 8)) : undefined;
        entered = path !== undefined && (typeof wanted === 'string' ? path === wanted : wanted(path));
      } else if (op === INFO_EXIT && entered) {
        entered = false;
        results.push(body());
        if (results.length === steps.length) return results;
      }
    }
    throw new Error(`thread ${tid} did not open ${steps[results.length]![0]} within ${MAX_STOPS} stops`);
  } finally {
    ptrace(PTRACE_DETACH, tid, 0, 0);
  }
}

/** Run `body` while thread `tid` is stopped wherever it was (PTRACE_INTERRUPT); then let it go. */
export function whileInterrupted<T>(tid: number, body: () => T): T {
  attach(tid);
  try {
    ptrace(PTRACE_INTERRUPT, tid, 0, 0);
    wait(tid);
    return body();
  } finally {
    ptrace(PTRACE_DETACH, tid, 0, 0);
  }
}
