/**
 * A program held in a ptrace syscall-exit stop right after the openat that opened a given path,
 * with the calling thread (the test's) as its tracer: the state the origin tracer hands to
 * readNativeStack. Linux only; synchronous (waitpid on this one pid, which libuv does not know of).
 *
 * How: posix_spawn of `sh -c 'kill -STOP $$ && exec PROGRAM ARGS'` (the stub spawn-stopped.ts uses),
 * PTRACE_SEIZE while it is stopped, SIGCONT, then PTRACE_SYSCALL from stop to stop, reading each
 * stop with PTRACE_GET_SYSCALL_INFO, until an openat returns a descriptor whose /proc link is `path`.
 */
import { readlinkSync } from 'node:fs';
import { constants } from 'node:os';
import { errno } from '../../probes/linux/libc.js';
import {
  SPAWN_STRUCT_BYTES, kill, posixSpawn, posixSpawnFileActionsAddDup2, posixSpawnFileActionsDestroy,
  posixSpawnFileActionsInit, ptrace, waitpid,
} from '../../probes/linux/libc-process.js';
import { decodeWaitStatus, type WaitStatus } from '../../probes/linux/wait-status.js';

const PTRACE_SYSCALL = 24;
const PTRACE_DETACH = 17;
const PTRACE_SEIZE = 0x4206;
const PTRACE_GET_SYSCALL_INFO = 0x420e;
const PTRACE_O_TRACESYSGOOD = 0x1;
const PTRACE_O_TRACEEXEC = 0x10;
const PTRACE_O_EXITKILL = 0x100000;
const SYSCALL_INFO_ENTRY = 1;
const SYSCALL_INFO_EXIT = 2;
const WUNTRACED = 2;
const WALL = 0x40000000;
const SIG = constants.signals;
/** openat's number (x86_64 257; the unified table's 56 elsewhere). */
const OPENAT = process.arch === 'x64' ? 257 : process.arch === 'ia32' ? 295 : 56;

/** A traced program in its stop; `detach` lets it run on untraced, `kill` ends and reaps it. */
export interface StoppedProgram {
  pid: number;
  /** The descriptor the openat returned. */
  fd: number;
  /** Detach and wait for its end: its wait status (it runs on exactly as without the tracer). */
  detachAndWait(): WaitStatus;
  kill(): void;
}

/** Run `program args` traced by this thread until it has opened `path`; throws if it exits first. */
export function stopAtOpen(program: string, args: readonly string[], path: string): StoppedProgram {
  const actions = Buffer.alloc(SPAWN_STRUCT_BYTES);
  posixSpawnFileActionsInit(actions);
  for (const fd of [0, 1, 2]) posixSpawnFileActionsAddDup2(actions, fd, fd);
  const out = [0];
  const argv = ['sh', '-c', 'kill -STOP "$$" && exec "$@"', 'stub', program, ...args, null];
  const failed = posixSpawn(out, '/bin/sh', actions, null as unknown as Buffer, argv, [null]);
  posixSpawnFileActionsDestroy(actions);
  if (failed !== 0) throw new Error(`posix_spawn: error ${failed}`);
  const pid = out[0]!;
  const wait = (): WaitStatus => {
    const status = [0];
    for (;;) {
      if (waitpid(pid, status, WALL) === pid) return decodeWaitStatus(status[0]!);
      if (errno() !== constants.errno.EINTR) throw new Error(`waitpid ${pid}: errno ${errno()}`);
    }
  };
  const status = [0];
  waitpid(pid, status, WUNTRACED);
  if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL) !== 0) {
    kill(pid, SIG.SIGKILL);
    wait();
    throw new Error(`PTRACE_SEIZE: errno ${errno()}`);
  }
  const info = Buffer.alloc(88);
  let call = -1;
  kill(pid, SIG.SIGCONT);
  const stopped: StoppedProgram = {
    pid, fd: -1,
    detachAndWait: () => {
      ptrace(PTRACE_DETACH, pid, 0, 0);
      return wait();
    },
    kill: () => {
      kill(pid, SIG.SIGKILL);
      wait();
    },
  };
  for (;;) {
    const state = wait();
    if (state.kind !== 'stopped') throw new Error(`${program} ended before it opened ${path}: ${JSON.stringify(state)}`);
    let pass = 0;
    if (state.signal === (SIG.SIGTRAP | 0x80)) {
      ptrace(PTRACE_GET_SYSCALL_INFO, pid, info.length, info);
      if (info[0] === SYSCALL_INFO_ENTRY) call = Number(info.readBigUInt64LE(24));
      else if (info[0] === SYSCALL_INFO_EXIT && call === OPENAT) {
        const fd = Number(info.readBigInt64LE(24));
        if (fd >= 0 && linkOf(pid, fd) === path) return { ...stopped, fd };
      }
    } else if (state.event === 0 && state.signal !== SIG.SIGSTOP && state.signal !== SIG.SIGCONT && state.signal !== SIG.SIGTRAP) {
      pass = state.signal; // a signal for the program: delivered, as without the tracer
    }
    ptrace(PTRACE_SYSCALL, pid, 0, pass);
  }
}

function linkOf(pid: number, fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return undefined;
  }
}
