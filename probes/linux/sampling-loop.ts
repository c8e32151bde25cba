/**
 * The fallback when ptrace is refused: read /proc every few milliseconds and record the
 * descendants of the root as they are seen. Not exact: a process that starts and ends between two
 * samples is missed, a table is read some time after the exec (rows are marked `sampled`), and a
 * grandchild's exit status is unknown. Descendants are found by parent pid, so orphans whose parent
 * exited are lost, and sampling ends when the root exits.
 */
import { readlinkSync } from 'node:fs';
import { constants } from 'node:os';
import { OsError, type TraceRecorder } from '../../src/probe-kit/index.js';
import { errno } from './libc.js';
import { kill, waitpid } from './libc-process.js';
import { listLinuxPids, readExecArgv, readProcStat } from './process-info.js';
import { decodeWaitStatus } from './wait-status.js';
import type { LoopHooks } from './ptrace-loop.js';
import { WNOHANG, WUNTRACED, WCONTINUED } from './ptrace-requests.js';

const { EINTR } = constants.errno;

interface Seen {
  startTime: number;
  image: string;
}

/** Sample until the root exits; the root is the stopped stub, resumed here. Returns its wait status. */
export function runSamplingLoop(root: number, recorder: TraceRecorder, hooks: LoopHooks, intervalMs: number): { code?: number; signal?: number } {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const seen = new Map<number, Seen>();
  const rootStat = readProcStat(root);
  seen.set(root, { startTime: rootStat?.startTime ?? -1, image: imageOf(root) });
  // The stub is known to be stopped already, so this SIGCONT cannot arrive before its SIGSTOP.
  kill(root, constants.signals.SIGCONT);
  const status = [0];
  for (;;) {
    sample(root, recorder, hooks, seen);
    const r = waitpid(root, status, WNOHANG | WUNTRACED | WCONTINUED);
    if (r === root) {
      const state = decodeWaitStatus(status[0]!);
      if (state.kind === 'stopped') hooks.onRootStop?.(state.signal);
      if (state.kind === 'continued') hooks.onRootContinue?.();
      if (state.kind === 'stopped' || state.kind === 'continued') continue;
      for (const pid of recorder.livePids()) if (pid !== root && recorder.exited(pid, undefined, undefined)) hooks.onExit(pid);
      const result = state.kind === 'exited' ? { code: state.code } : { signal: state.signal };
      recorder.exited(root, result.code, result.signal);
      hooks.onExit(root);
      return result;
    }
    if (r === -1 && errno() !== EINTR) throw new OsError(`waitpid ${root}`, errno());
    Atomics.wait(sleeper, 0, 0, intervalMs);
  }
}

/** One pass: new descendants, new program images, vanished processes. */
function sample(root: number, recorder: TraceRecorder, hooks: LoopHooks, seen: Map<number, Seen>): void {
  const children = new Map<number, number[]>();
  const starts = new Map<number, number>();
  for (const pid of listLinuxPids()) {
    const stat = readProcStat(pid);
    if (!stat) continue;
    starts.set(pid, stat.startTime);
    const list = children.get(stat.ppid) ?? [];
    list.push(pid);
    children.set(stat.ppid, list);
  }
  // Gone, or the pid now names another process.
  for (const pid of recorder.livePids()) {
    if (pid === root) continue;
    if (starts.get(pid) !== seen.get(pid)?.startTime) {
      seen.delete(pid);
      if (recorder.exited(pid, undefined, undefined)) hooks.onExit(pid);
    }
  }
  // Breadth first, so a parent is recorded before its children.
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const pid of children.get(parent) ?? []) {
      queue.push(pid);
      const image = imageOf(pid);
      if (!recorder.isLive(pid)) {
        if (!recorder.fork(parent, pid, 'fork')) continue;
        hooks.onProcess(pid);
        seen.set(pid, { startTime: starts.get(pid)!, image: seen.get(parent)?.image ?? '' });
      }
      checkImage(pid, image, recorder, seen);
    }
  }
  checkImage(root, imageOf(root), recorder, seen);
}

function checkImage(pid: number, image: string, recorder: TraceRecorder, seen: Map<number, Seen>): void {
  const known = seen.get(pid);
  if (!known || known.image === image || image === '') return;
  known.image = image;
  recorder.exec(pid, { sampled: true });
}

/** Executable and argv: a change means the process exec'd since the last sample. */
function imageOf(pid: number): string {
  let exe = '';
  try { exe = readlinkSync(`/proc/${pid}/exe`); } catch { /* gone or a zombie */ }
  return exe === '' ? '' : `${exe}\0${readExecArgv(pid).join('\0')}`;
}
