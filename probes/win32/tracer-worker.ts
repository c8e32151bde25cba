/**
 * The Windows tracer thread: it creates the command's root under DEBUG_PROCESS, so it is the
 * debugger of the whole tree, and runs the debug loop (debug-loop.ts) with the recorder. Posts the
 * result, or an error as data.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FdscanError, serializeError, type TraceRecorder, type TraceResult, type TraceRequest } from '../../src/probe-kit/index.js';
import { createTraceRecorder } from '../../src/tracer-thread/recorder.js';
import { runDebugLoop, startProcess } from './debug-loop.js';
import { runJobLoop } from './job-loop.js';
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
  const reader = new WindowsTraceReader();
  const recorder = createTraceRecorder(request.argv, process.pid, reader, { fullStdio: request.fullStdio, inheritance: 'handles' });
  const stop = new Int32Array(request.stop);
  if (request.method === 'sampling') return runSampled(request, reader, recorder, stop);
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

/**
 * `--sample` (method `sampling`): a job object instead of the debugger. The root is read while it
 * is suspended; every later process only once it runs (job-loop.ts).
 */
function runSampled(request: WindowsWorkerRequest, reader: WindowsTraceReader, recorder: TraceRecorder, stop: Int32Array): TraceResult {
  recorder.warnings.push('sampled with a job object as asked: each process after the root is read once it has started running, not at its creation; what it closed or received meanwhile can be missed');
  const root = startProcess({ argv: request.exec.argv, env: request.exec.env, debug: false, suspended: true });
  recorder.addRoot(root.pid);
  reader.track(root.pid, root.process);
  const code = runJobLoop(root, {
    rootHeld() {
      readAt(reader, recorder, process.pid, root.pid, false);
    },
    created(pid, creator, handle) {
      if (handle !== undefined) reader.track(pid, handle);
      readAt(reader, recorder, creator, pid, true);
    },
    exited(pid, code) {
      recorder.exited(pid, code, undefined);
      reader.forget(pid);
    },
    terminateRequested: () => Atomics.load(stop, 0) !== 0,
  });
  return recorder.result('sampling', code, undefined);
}

/** One snapshot of `creator` and `pid`, then the recorder's reading of the new process. */
function readAt(reader: WindowsTraceReader, recorder: TraceRecorder, creator: number, pid: number, sampled: boolean): void {
  try {
    reader.hold([pid, creator]);
  } catch (error) {
    if (!(error instanceof FdscanError)) throw error;
  }
  try {
    recorder.spawned(creator, pid, { sampled });
  } finally {
    reader.release();
  }
}

function post(message: TracerMessage): void {
  parentPort!.postMessage(message);
}

try {
  post({ type: 'result', result: run(workerData as WindowsWorkerRequest) });
} catch (error) {
  post({ type: 'error', error: serializeError(error) });
}
