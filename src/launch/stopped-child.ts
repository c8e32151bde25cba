/**
 * Children held stopped at a known point, so their table can be read exactly: a POSIX shell that
 * stops itself (`kill -STOP $$`, a builtin: it forks and opens nothing) and, once continued, execs
 * the command (the scripts are src/probe-kit/stop-stub.ts). What the shell holds while stopped is
 * exactly what the command receives at its exec, less the close-on-exec descriptors.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FdscanError, NoSuchProcess } from '../errors.js';
import { probeFor } from '../platform/probe.js';

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
