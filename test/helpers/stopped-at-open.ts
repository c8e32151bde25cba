/**
 * A program traced by the calling thread (the test's), held in a ptrace syscall-exit stop right
 * after an openat that opened a given path: the state the origin tracer hands to readNativeStack.
 * Linux only; synchronous.
 *
 * How: posix_spawn of `sh -c 'kill -STOP $$ && exec PROGRAM ARGS'` (the stub spawn-stopped.ts uses),
 * PTRACE_SEIZE with TRACECLONE while it is stopped, SIGCONT, then PTRACE_SYSCALL from stop to stop
 * for every thread, reading each syscall stop with PTRACE_GET_SYSCALL_INFO, until an openat returns
 * a descriptor whose /proc link is the path. Each thread is waited for by its own tid (WNOHANG,
 * polled): waitpid(-1) could take the exit of a child libuv waits for.
 */
import { readlinkSync } from 'node:fs';
import { constants } from 'node:os';
import { errno } from '../../probes/linux/libc.js';
import { STOP_THEN_EXEC } from '../../src/probe-kit/stop-stub.js';
import {
  SPAWN_STRUCT_BYTES, kill, posixSpawn, posixSpawnFileActionsAddDup2, posixSpawnFileActionsDestroy,
  posixSpawnFileActionsInit, ptrace, waitpid,
} from '../../probes/linux/libc-process.js';
import { decodeWaitStatus, type WaitStatus } from '../../probes/linux/wait-status.js';
import { EVENT_CLONE, PTRACE_DETACH, PTRACE_GETEVENTMSG, PTRACE_GET_SYSCALL_INFO, PTRACE_INTERRUPT, PTRACE_O_EXITKILL, PTRACE_O_TRACECLONE, PTRACE_O_TRACEEXEC, PTRACE_O_TRACESYSGOOD, PTRACE_SEIZE, PTRACE_SYSCALL, WALL, WNOHANG, WUNTRACED } from '../../probes/linux/ptrace-requests.js';

const SYSCALL_INFO_ENTRY = 1;
const SYSCALL_INFO_EXIT = 2;
const SIG = constants.signals;
/** openat's number (x86_64 257; the unified table's 56 elsewhere). */
const OPENAT = process.arch === 'x64' ? 257 : process.arch === 'ia32' ? 295 : 56;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** A program under this thread's ptrace. */
export class TracedProgram {
  /** Traced threads: whether each is in a ptrace stop now. */
  private readonly threads = new Map<number, boolean>();
  /** The syscall each thread entered last. */
  private readonly calls = new Map<number, number>();
  private exit: WaitStatus | undefined;

  private constructor(readonly pid: number) {
    this.threads.set(pid, false);
  }

  /** Start `program args` traced by this thread (running until the first `runToOpen`). */
  static start(program: string, args: readonly string[]): TracedProgram {
    const actions = Buffer.alloc(SPAWN_STRUCT_BYTES);
    posixSpawnFileActionsInit(actions);
    for (const fd of [0, 1, 2]) posixSpawnFileActionsAddDup2(actions, fd, fd);
    const out = [0];
    const argv = ['sh', '-c', STOP_THEN_EXEC, 'stub', program, ...args, null];
    const failed = posixSpawn(out, '/bin/sh', actions, null as unknown as Buffer, argv, [null]);
    posixSpawnFileActionsDestroy(actions);
    if (failed !== 0) throw new Error(`posix_spawn: error ${failed}`);
    const traced = new TracedProgram(out[0]!);
    waitpid(traced.pid, [0], WUNTRACED);
    if (ptrace(PTRACE_SEIZE, traced.pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL) !== 0) {
      const refused = errno();
      kill(traced.pid, SIG.SIGKILL);
      waitpid(traced.pid, [0], 0);
      throw new Error(`PTRACE_SEIZE: errno ${refused}`);
    }
    kill(traced.pid, SIG.SIGCONT);
    ptrace(PTRACE_SYSCALL, traced.pid, 0, 0); // the SIGSTOP's stop, if it has reached us yet, is passed over
    return traced;
  }

  /** Resume every stopped thread until one returns from an openat of `path`; that thread stays in its syscall-exit stop. */
  runToOpen(path: string): { tid: number; fd: number } {
    for (const [tid, stopped] of this.threads) if (stopped) this.resume(tid, 0);
    for (;;) {
      let seen = false;
      for (const tid of [...this.threads.keys()]) {
        const status = [0];
        const got = waitpid(tid, status, WALL | WNOHANG);
        if (got !== tid) continue;
        seen = true;
        const state = decodeWaitStatus(status[0]!);
        if (state.kind !== 'stopped') {
          this.threads.delete(tid);
          if (tid === this.pid) {
            this.exit = state;
            throw new Error(`the program ended before it opened ${path}: ${JSON.stringify(state)}`);
          }
          continue;
        }
        this.threads.set(tid, true);
        if (state.signal === (SIG.SIGTRAP | 0x80)) {
          const info = Buffer.alloc(88);
          ptrace(PTRACE_GET_SYSCALL_INFO, tid, info.length, info);
          if (info[0] === SYSCALL_INFO_ENTRY) this.calls.set(tid, Number(info.readBigUInt64LE(24)));
          else if (info[0] === SYSCALL_INFO_EXIT && this.calls.get(tid) === OPENAT) {
            const fd = Number(info.readBigInt64LE(24));
            if (fd >= 0 && linkOf(this.pid, fd) === path) return { tid, fd };
          }
          this.resume(tid, 0);
        } else if (state.event === EVENT_CLONE) {
          const message = Buffer.alloc(8);
          ptrace(PTRACE_GETEVENTMSG, tid, 0, message);
          this.threads.set(Number(message.readBigUInt64LE(0)), false); // it reports its own first stop
          this.resume(tid, 0);
        } else {
          // A signal for the program is delivered, as without the tracer; event and job-control stops are passed.
          const own = state.event === 0 && state.signal !== SIG.SIGSTOP && state.signal !== SIG.SIGTRAP;
          this.resume(tid, own ? state.signal : 0);
        }
      }
      if (!seen) Atomics.wait(pause, 0, 0, 1);
    }
  }

  /** Detach every thread and wait for the program's end: its wait status (it runs on as without the tracer). */
  detachAndWait(): WaitStatus {
    for (const [tid, stopped] of this.threads) {
      if (!stopped) {
        ptrace(PTRACE_INTERRUPT, tid, 0, 0);
        if (waitpid(tid, [0], WALL) !== tid) continue;
      }
      ptrace(PTRACE_DETACH, tid, 0, 0);
    }
    this.threads.clear();
    if (this.exit) return this.exit;
    const status = [0];
    while (waitpid(this.pid, status, 0) !== this.pid) if (errno() !== constants.errno.EINTR) throw new Error(`waitpid: errno ${errno()}`);
    return (this.exit = decodeWaitStatus(status[0]!));
  }

  /** SIGKILL and reap every thread. */
  kill(): void {
    if (this.exit) return;
    kill(this.pid, SIG.SIGKILL);
    const leaderLast = [...this.threads.keys()].sort((a, b) => Number(a === this.pid) - Number(b === this.pid));
    for (const tid of leaderLast) {
      const status = [0];
      while (waitpid(tid, status, WALL) === tid && decodeWaitStatus(status[0]!).kind === 'stopped');
    }
    this.threads.clear();
    this.exit = { kind: 'killed', signal: SIG.SIGKILL };
  }

  private resume(tid: number, signal: number): void {
    this.threads.set(tid, false);
    ptrace(PTRACE_SYSCALL, tid, 0, signal);
  }
}

/** Start `program args` traced and run it until it has opened `path` (the common case: one thread, one open). */
export function stopAtOpen(program: string, args: readonly string[], path: string): TracedProgram & { tid: number; fd: number } {
  const traced = TracedProgram.start(program, args);
  try {
    return Object.assign(traced, traced.runToOpen(path));
  } catch (error) {
    traced.kill();
    throw error;
  }
}

function linkOf(pid: number, fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return undefined;
  }
}
