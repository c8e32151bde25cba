/**
 * A thread that only spawns the stub under the origins filter, then ends. Why a thread of its own:
 * a seccomp filter cannot be removed from the thread that installs it, and the tracer thread must
 * stay unfiltered: the unwinders it calls (libdw, libunwind) open files without O_CLOEXEC, which
 * the filter would answer with ENOSYS there, having no tracer. This thread makes no such call
 * between installing the filter and its end; the stub it spawns inherits the filter, and once this
 * thread ends the kernel gives the stub another thread of fdscan as its parent.
 *
 * Protocol (spawn-origins.ts): one request by message, one reply on the request's port, then
 * `done[0] = 1` and a notify, so that the tracer thread can wait for it synchronously.
 */
import { parentPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { serializeError, type CallerState, type SerializedError } from '../../src/probe-kit/index.js';
import type { Arch } from './descriptor-calls.js';
import { installFilter } from './seccomp-filter.js';
import { spawnStopped } from './spawn-stopped.js';
import { withDescriptorLock, type DescriptorLock } from './descriptor-lock.js';

/** What the tracer thread asks. */
export interface SpawnThreadRequest {
  argv: Uint8Array[];
  env: Uint8Array[];
  caller: CallerState;
  ownGroup: boolean;
  arch: Arch;
  port: MessagePort;
  done: Int32Array;
  /** Held while spawning (descriptor-lock.ts). */
  lock?: DescriptorLock;
}

/** The answer: the stopped stub's pid, why the filter could not be installed (nothing spawned), or the spawn's error. */
export type SpawnThreadReply = { pid: number } | { filterFailed: string } | { error: SerializedError };

parentPort!.once('message', (request: SpawnThreadRequest) => {
  let reply: SpawnThreadReply;
  try {
    const failed = installFilter(request.arch);
    reply = failed !== undefined ? { filterFailed: failed } : { pid: withDescriptorLock(request.lock, () => spawnStopped(request.argv, request.env, request.caller, request.ownGroup)) };
  } catch (error) {
    reply = { error: serializeError(error) };
  }
  request.port.postMessage(reply);
  request.port.close();
  Atomics.store(request.done, 0, 1);
  Atomics.notify(request.done, 0);
  parentPort!.close();
});
