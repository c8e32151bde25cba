/**
 * Job control for a wrapped command, as a shell with job control runs a job: the command leads a
 * process group of its own, and that group is the terminal's foreground group while fdscan's job
 * is. The terminal then signals (Ctrl-C, Ctrl-\, Ctrl-Z, a resize) the command's group alone,
 * once, as it would the bare command.
 *
 * Calls: isatty, getpgrp, getsid, tcgetsid, tcgetpgrp, tcsetpgrp (SIGTTOU blocked in the calling
 * thread with pthread_sigmask: a process outside the foreground group is sent SIGTTOU for it
 * otherwise, which would stop fdscan), posix_spawn with POSIX_SPAWN_SETPGROUP (spawn-stopped.ts),
 * waitpid WNOHANG|WUNTRACED|WCONTINUED. Privileges: none (fdscan's own terminal and children).
 * Races handled: the command is held stopped before its exec until its group holds the terminal,
 * so a program that sets the terminal up at once (vim, less) is never a background job doing it.
 */
import { isatty } from 'node:tty';
import { constants } from 'node:os';
import { OsError, type CallerState, type ChildState, type JobControl } from '../../src/probe-kit/index.js';
import { errno } from './libc.js';
import { kill, waitpid } from './libc-process.js';
import {
  SIGSET_BYTES, SIG_BLOCK, SIG_SETMASK, getpgrp, getsid, pthreadSigmask, sigaddset, sigemptyset,
  tcgetpgrp, tcgetsid, tcsetpgrp,
} from './libc-terminal.js';
import { spawnStopped } from './spawn-stopped.js';
import { decodeWaitStatus } from './wait-status.js';
import { WNOHANG, WUNTRACED, WCONTINUED } from './ptrace-requests.js';

const { EINTR } = constants.errno;

/**
 * The terminal (0, 1 or 2) of fdscan's session, and whether fdscan leads its process group (a
 * shell with job control made it a job; not when a script started it, in the script's group).
 * Undefined without one (as in CI).
 */
export function jobTerminal(): { fd: number; leader: boolean } | undefined {
  const session = getsid(0);
  const fd = [0, 1, 2].find((n) => isatty(n) && tcgetsid(n) === session);
  return fd === undefined ? undefined : { fd, leader: getpgrp() === process.pid };
}

/** The terminal's foreground process group (-1 when it cannot tell). */
export function foregroundGroup(terminal: number): number {
  return tcgetpgrp(terminal);
}

/** Make `pgid` the terminal's foreground group; false when refused (the group is gone). */
export function setForegroundGroup(terminal: number, pgid: number): boolean {
  const block = Buffer.alloc(SIGSET_BYTES);
  const before = Buffer.alloc(SIGSET_BYTES);
  sigemptyset(block);
  sigaddset(block, constants.signals.SIGTTOU);
  pthreadSigmask(SIG_BLOCK, block, before);
  try {
    return tcsetpgrp(terminal, pgid) === 0;
  } finally {
    pthreadSigmask(SIG_SETMASK, before, null);
  }
}

/** Give the terminal to the stopped stub `pid` (leader of its own group) when fdscan's job holds it now. */
export function handTerminal(terminal: number, pid: number): void {
  if (foregroundGroup(terminal) === getpgrp()) setForegroundGroup(terminal, pid);
}

/** Start `argv` leading a group of its own, given the terminal when fdscan's job holds it; returns its pid. */
function spawnJob(argv: readonly Uint8Array[], env: readonly Uint8Array[], caller: CallerState, terminal: number): number {
  const pid = spawnStopped(argv, env, caller, true);
  handTerminal(terminal, pid);
  kill(pid, constants.signals.SIGCONT);
  return pid;
}

/** What became of child `pid` since last asked; undefined: nothing new. */
function pollChild(pid: number): ChildState | undefined {
  const status = [0];
  for (;;) {
    const r = waitpid(pid, status, WNOHANG | WUNTRACED | WCONTINUED);
    if (r === 0) return undefined;
    if (r === pid) break;
    if (errno() === EINTR) continue;
    throw new OsError(`waitpid ${pid}`, errno());
  }
  const state = decodeWaitStatus(status[0]!);
  return state.kind === 'stopped' ? { kind: 'stopped', signal: state.signal } : state;
}

/** The Linux job control of the probe contract. */
export const linuxJobControl: JobControl = {
  terminal: jobTerminal,
  foregroundGroup,
  setForegroundGroup,
  spawn: spawnJob,
  poll: pollChild,
};
