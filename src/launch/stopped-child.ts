/**
 * Children held stopped at a known point, so their table can be read exactly: a POSIX shell that
 * stops itself (`kill -STOP $$`, a builtin: it forks and opens nothing) and, once continued, execs
 * the command. What the shell holds while stopped is exactly what the command receives at its
 * exec, less the close-on-exec descriptors.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FdscanError, NoSuchProcess } from '../errors.js';
import { probeFor } from '../platform/probe.js';

/** `sh -c STOP_THEN_EXEC sh CMD ARGS...`: stop, then exec CMD once sent SIGCONT. */
export const STOP_THEN_EXEC = 'kill -STOP "$$" && exec "$@"';
/** `sh -c STOP_ONLY`: stop; exit once continued. */
export const STOP_ONLY = 'kill -STOP "$$"';

const STOP_WAIT_MS = 10_000;

/** Resolve once `pid` is stopped; ESPAWN when it exits first or does not stop in time. */
export async function waitUntilStopped(pid: number, what: string): Promise<void> {
  const deadline = Date.now() + STOP_WAIT_MS;
  while (Date.now() < deadline) {
    let state: string | undefined;
    try {
      state = probeFor().processInfo(pid).state;
    } catch (error) {
      if (!(error instanceof NoSuchProcess)) throw error;
    }
    if (state === undefined || state === 'Z') throw new FdscanError('ESPAWN', `${what} exited before it could be read`);
    if (state === 'T') return;
    await sleep(1);
  }
  throw new FdscanError('ESPAWN', `${what} (pid ${pid}) did not stop within ${STOP_WAIT_MS} ms`);
}
