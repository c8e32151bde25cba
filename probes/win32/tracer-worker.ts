/**
 * The Windows tracer thread: it creates the command's root under DEBUG_PROCESS, so it is the
 * debugger of the whole tree, and runs the debug loop (debug-loop.ts) with the recorder. Posts the
 * result, or an error as data.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FdscanError, serializeError } from '../../src/errors.js';
import { TraceRecorder } from '../../src/trace/trace-recorder.js';
import type { TraceResult } from '../../src/trace/trace-result.js';
import type { TraceRequest } from '../../src/probe-contract.js';
import { runDebugLoop, startProcess } from './debug-loop.js';
import { WindowsTraceReader } from './trace-reader.js';
import type { TracerMessage } from '../linux/tracer-worker.js';

/** The request and a flag the main thread sets (Atomics) to ask that the tree be terminated. */
export interface WindowsWorkerRequest extends TraceRequest {
  stop: SharedArrayBuffer;
}

/** `_NO_DEBUG_HEAP=1` unless the command's environment sets it: a debugged process gets the debug heap otherwise. */
function withoutDebugHeap(env: readonly Uint8Array[]): Uint8Array[] {
  const set = env.some((e) => Buffer.from(e).toString('latin1').toUpperCase().startsWith('_NO_DEBUG_HEAP='));
  return set ? [...env] : [...env, Buffer.from('_NO_DEBUG_HEAP=1')];
}

function run(request: WindowsWorkerRequest): TraceResult {
  if (request.method === 'sampling') {
    throw new FdscanError('ETRACE_METHOD', 'sampling is not available on Windows: the debug API traces every process exactly');
  }
  const reader = new WindowsTraceReader();
  const recorder = new TraceRecorder(request.argv, process.pid, reader, { fullStdio: request.fullStdio, inheritance: 'handles' });
  const stop = new Int32Array(request.stop);
  const root = startProcess({ argv: request.exec.argv, env: withoutDebugHeap(request.exec.env), debug: true });
  recorder.addRoot(root.pid);
  const code = runDebugLoop(root, {
    created(pid, creator, handle) {
      reader.track(pid, handle);
      try {
        reader.hold([pid, creator]);
      } catch (error) {
        if (!(error instanceof FdscanError)) throw error;
        // The tables are read one by one below, and each read says what failed.
      }
      try {
        // A creator outside the tree (a parent-process attribute) makes an unverified exec there.
        recorder.spawned(creator, pid);
      } finally {
        reader.release();
      }
    },
    exited(pid, code) {
      recorder.exited(pid, code, undefined);
      reader.forget(pid);
    },
    terminateRequested: () => Atomics.load(stop, 0) !== 0,
  });
  return recorder.result('debug-api', code, undefined);
}

function post(message: TracerMessage): void {
  parentPort!.postMessage(message);
}

try {
  post({ type: 'result', result: run(workerData as WindowsWorkerRequest) });
} catch (error) {
  post({ type: 'error', error: serializeError(error) });
}
