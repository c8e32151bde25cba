/**
 * The Linux exec tracer: ptrace from a worker thread of its own (tracer-worker.ts), falling back to
 * sampling /proc where ptrace is refused. Signals reach the traced tree through pidfds the tracer
 * thread registers in shared memory (forwarding-registry.ts): never a reused pid, no message per process.
 */
import { newDescriptorLock } from './descriptor-lock.js';
import { closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Worker } from 'node:worker_threads';
import {
  FdscanError, OsError, deserializeError, type ExecTracer, type StackFrame, type TraceJobEvents, type TraceRequest,
  type TraceSession, type TraceResult,
} from '../../src/probe-kit/index.js';
import { ForwardingRegistry, newRegistryBuffer } from './forwarding-registry.js';
import { withDescriptorLock } from './descriptor-lock.js';
import { nameRecordedStack } from './origin-stack.js';
import { pidfdSendSignal } from './libc-process.js';
import type { TracerMessage, WorkerRequest } from './tracer-worker.js';

/** The tracer thread's young generation (V8's default grows to 16 MB per semi-space). */
const YOUNG_GENERATION_MB = 2;

// node:worker_threads loads Node's streams (7-9 ms): required when a thread is started, not by
// every audit that imports this probe.
const require = createRequire(import.meta.url);

/** A tracer thread started ahead of its request (prepare), until trace() takes it. */
let ready: { worker: Worker; failed: boolean } | undefined;
/** Shared by every tracer thread: spawning and unwinding never overlap (descriptor-lock.ts). */
const descriptorLock = newDescriptorLock();

function startThread(workerData: WorkerRequest | undefined): Worker {
  const threads = require('node:worker_threads') as typeof import('node:worker_threads');
  // A small young generation: the thread makes much short-lived garbage (one table read per
  // fork and exec) and keeps little, and V8 would otherwise grow it to tens of MB of RSS.
  // SHARE_ENV: Node copies process.env into a new thread otherwise, and aborts (v8 FATAL ERROR in
  // KVStore::Clone) on a variable whose name is not UTF-8.
  return new threads.Worker(new URL('./tracer-worker.js', import.meta.url), {
    workerData, env: threads.SHARE_ENV, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
}

export const linuxTracer: ExecTracer = {
  /**
   * Start the tracer thread now: starting a thread and loading its modules takes 100-150 ms, which
   * then passes while the command line is parsed. The thread waits for its request; it does not
   * keep fdscan alive (unref) until trace() gives it one. A thread that fails to start is
   * dropped, and trace() starts one as it would have, failing there as it would have.
   */
  prepare() {
    if (ready) return;
    try {
      const worker = startThread(undefined);
      const entry = { worker, failed: false };
      worker.once('error', () => { entry.failed = true; });
      worker.once('exit', () => { entry.failed = true; });
      worker.unref();
      ready = entry;
    } catch {
      ready = undefined;
    }
  },

  trace(request: TraceRequest, job?: TraceJobEvents): TraceSession {
    const shared = newRegistryBuffer();
    const registry = new ForwardingRegistry(shared);
    const workerRequest: WorkerRequest = { ...request, registry: shared, reportJob: job !== undefined, descriptorLock };
    const early = ready && !ready.failed ? ready.worker : undefined;
    if (ready && !early) void ready.worker.terminate();
    ready = undefined;
    let worker: Worker;
    if (early) {
      worker = early;
      worker.ref();
      worker.postMessage(workerRequest);
    } else {
      worker = startThread(workerRequest);
    }
    const finished = new Promise<TraceResult>((resolve, reject) => {
      worker.on('message', (message: TracerMessage) => {
        if (message.type === 'job') {
          if ('pgid' in message) job?.started(message.pgid);
          else if ('stopped' in message) job?.stopped(message.stopped);
          else job?.ended();
        } else if (message.type === 'result') {
          // The stacks were only unwound in the tracer thread: named here, as reports ask (origins.ts).
          const origins = message.result.origins;
          // Not enumerable: the result stays plain data to compare, copy and print.
          if (origins?.traced) {
            Object.defineProperty(origins, 'nameStack', { value: (frames: StackFrame[]) => withDescriptorLock(descriptorLock, () => nameRecordedStack(frames)), enumerable: false });
          }
          resolve(message.result);
        } else {
          reject(deserializeError(message.error));
        }
      });
      // The thread could not start (no descriptor or memory left: the machine's condition), or an
      // uncaught error in it: a bug, which keeps its message and stack.
      worker.once('error', (error: Error & { code?: string }) => {
        const errno = /\b(EMFILE|ENFILE|ENOMEM|EAGAIN)\b/.exec(error.message)?.[1];
        reject(error.code === 'ERR_WORKER_INIT_FAILED' && errno ? new OsError('start the tracer thread', errno, { cause: error }) : error);
      });
      worker.once('exit', (code) => reject(new FdscanError('ETRACE', `tracer thread ended (code ${code}) without a result`)));
    });
    const result = finished.finally(async () => {
      await worker.terminate();
      // Left only when the tracer thread failed: it closes each as its process exits.
      for (const pidfd of registry.remaining()) closeSync(pidfd);
    });
    return {
      result,
      forward: (signo) => registry.forward(signo, pidfdSendSignal, (pid, n) => {
        try { process.kill(pid, n); } catch { /* gone meanwhile */ }
      }),
    };
  },
};
