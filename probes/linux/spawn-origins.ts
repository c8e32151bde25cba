/**
 * The tracer thread's side of spawn-thread.ts: start that thread (as soon as origins are wanted, so
 * that its start-up overlaps the tracer's own), then ask it for the filtered stub and wait.
 */
import { existsSync } from 'node:fs';
import { MessageChannel, SHARE_ENV, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { deserializeError, type CallerState } from '../../src/probe-kit/index.js';
import type { Arch } from './descriptor-calls.js';
import type { SpawnThreadReply, SpawnThreadRequest } from './spawn-thread.js';
import type { DescriptorLock } from './descriptor-lock.js';

/** A spawn thread started ahead of its one request. */
export interface SpawnThread {
  worker: Worker;
}

/** Start the thread; undefined when it cannot start (then origins are not traced). */
export function startSpawnThread(): SpawnThread | undefined {
  // A missing entry would only be reported by an event, which the blocked tracer thread never sees.
  const entry = new URL('./spawn-thread.js', import.meta.url);
  if (!existsSync(entry)) return undefined;
  try {
    // SHARE_ENV: a copy of process.env aborts Node on a variable whose name is not UTF-8 (tracer.ts).
    const worker = new Worker(entry, { env: SHARE_ENV });
    worker.unref();
    worker.on('error', () => { /* reported as no reply */ });
    return { worker };
  } catch {
    return undefined;
  }
}

/** How long to wait for the thread's reply before giving up on it. */
const REPLY_TIMEOUT_MS = 20_000;

/**
 * Spawn the stub under the origins filter from `thread`: the stopped stub's pid, or why the filter
 * could not be set (nothing was spawned). Throws the spawn's own error (SpawnFailed).
 */
export function spawnFiltered(thread: SpawnThread, argv: Uint8Array[], env: Uint8Array[], caller: CallerState, ownGroup: boolean, arch: Arch, lock?: DescriptorLock): { pid: number } | { filterFailed: string } {
  const done = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const request: SpawnThreadRequest = { argv, env, caller, ownGroup, arch, port: port2, done, ...(lock ? { lock } : {}) };
  thread.worker.postMessage(request, [port2]);
  // This thread blocks here: the reply comes on a port read synchronously, not by an event.
  const outcome = Atomics.wait(done, 0, 0, REPLY_TIMEOUT_MS);
  const reply = receiveMessageOnPort(port1)?.message as SpawnThreadReply | undefined;
  port1.close();
  void thread.worker.terminate();
  if (!reply) return { filterFailed: outcome === 'timed-out' ? 'spawn-thread-timeout' : 'spawn-thread' };
  if ('error' in reply) throw deserializeError(reply.error);
  return reply;
}
