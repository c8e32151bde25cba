/**
 * The Linux exec tracer: ptrace from a worker thread of its own (tracer-worker.ts), falling back to
 * sampling /proc where ptrace is refused. Signals reach the traced tree through pidfds the tracer
 * thread registers in shared memory (forwarding-registry.ts): never a reused pid, no message per process.
 */
import { closeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { ExecTracer, TraceRequest, TraceSession } from '../../src/probe-contract.js';
import { FdscanError, OsError, deserializeError } from '../../src/errors.js';
import type { TraceResult } from '../../src/trace/trace-result.js';
import { ForwardingRegistry, newRegistryBuffer } from './forwarding-registry.js';
import { pidfdSendSignal } from './libc-process.js';
import type { TracerMessage, WorkerRequest } from './tracer-worker.js';

/** The tracer thread's young generation (V8's default grows to 16 MB per semi-space). */
const YOUNG_GENERATION_MB = 2;

export const linuxTracer: ExecTracer = {
  trace(request: TraceRequest): TraceSession {
    const shared = newRegistryBuffer();
    const registry = new ForwardingRegistry(shared);
    const workerRequest: WorkerRequest = { ...request, registry: shared };
    // A small young generation: the thread makes much short-lived garbage (one table read per
    // fork and exec) and keeps little, and V8 would otherwise grow it to tens of MB of RSS.
    const worker = new Worker(new URL('./tracer-worker.js', import.meta.url), { workerData: workerRequest, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
    const finished = new Promise<TraceResult>((resolve, reject) => {
      worker.on('message', (message: TracerMessage) => {
        if (message.type === 'result') resolve(message.result);
        else reject(deserializeError(message.error));
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
