/**
 * The Windows exec tracer: the debug API from a thread of its own (tracer-worker.ts,
 * debug-loop.ts). Exact: every process of the tree is read at its creation, before it runs its own
 * code. Signals: a console's Ctrl-C and Ctrl-Break already reach every process of the tree (they
 * share fdscan's console); SIGTERM, SIGHUP and SIGKILL forwarded terminate the tree (TerminateProcess).
 */
import { Worker } from 'node:worker_threads';
import {
  FdscanError, deserializeError, type ExecTracer, type TraceRequest, type TraceSession,
  type TraceResult,
} from '../../src/probe-kit/index.js';
import type { TracerMessage } from '../linux/tracer-worker.js';
import type { WindowsWorkerRequest } from './tracer-worker.js';

/** Signals whose default action ends a process: forwarded as TerminateProcess of the tree. */
const TERMINATING = new Set([1, 9, 15]);

export const win32Tracer: ExecTracer = {
  trace(request: TraceRequest): TraceSession {
    const stop = new SharedArrayBuffer(4);
    const workerRequest: WindowsWorkerRequest = { ...request, stop };
    const worker = new Worker(new URL('./tracer-worker.js', import.meta.url), { workerData: workerRequest });
    const finished = new Promise<TraceResult>((resolve, reject) => {
      worker.on('message', (message: TracerMessage) => {
        if (message.type === 'result') resolve(message.result);
        else if (message.type === 'error') reject(deserializeError(message.error));
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new FdscanError('ETRACE', `tracer thread ended (code ${code}) without a result`)));
    });
    const result = finished.finally(async () => { await worker.terminate(); });
    return {
      result,
      forward: (signo) => { if (TERMINATING.has(signo)) Atomics.store(new Int32Array(stop), 0, 1); },
    };
  },
};
