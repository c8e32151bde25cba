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
import { ptrace, waitpid } from '../../probes/linux/libc-process.js';
import { decodeWaitStatus } from '../../probes/linux/wait-status.js';

const PTRACE_SYSCALL = 24;
const PTRACE_DETACH = 17;
const PTRACE_SEIZE = 0x4206;
const PTRACE_INTERRUPT = 0x4207;
const PTRACE_GET_SYSCALL_INFO = 0x420e;
const PTRACE_O_TRACESYSGOOD = 0x1;
const WALL = 0x40000000;
const SYSCALL_STOP = constants.signals.SIGTRAP | 0x80;
const INFO_ENTRY = 1;
const INFO_EXIT = 2;
const OPENAT: Partial<Record<string, number>> = { x64: 257, arm64: 56, riscv64: 56, loong64: 56 };
/** Enough stops for the fixtures' loops (a few calls every 5 ms) to reach the wanted call many times. */
const MAX_STOPS = 200_000;

function attach(tid: number): void {
  if (ptrace(PTRACE_SEIZE, tid, 0, PTRACE_O_TRACESYSGOOD) !== 0) throw new Error(`PTRACE_SEIZE ${tid}: errno ${errno()}`);
}

function wait(tid: number): ReturnType<typeof decodeWaitStatus> {
  const status = [0];
  for (;;) {
    const r = waitpid(tid, status, WALL);
    if (r === tid) return decodeWaitStatus(status[0]!);
    if (r === -1 && errno() === constants.errno.EINTR) continue;
    throw new Error(`waitpid ${tid}: errno ${errno()}`);
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
  const openat = OPENAT[process.arch];
  if (openat === undefined) throw new Error(`no openat number for ${process.arch}`);
  attach(tid);
  try {
    ptrace(PTRACE_INTERRUPT, tid, 0, 0);
    wait(tid);
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
      if (op === INFO_ENTRY) {
        entered = Number(info.readBigUInt64LE(24)) === openat && readPath(pid, info.readBigUInt64LE(32 + 8)) === path;
      } else if (op === INFO_EXIT && entered) {
        return body();
      }
    }
    throw new Error(`thread ${tid} did not open ${path} within ${MAX_STOPS} stops`);
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
