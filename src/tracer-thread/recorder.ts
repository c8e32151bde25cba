/**
 * For a tracer thread's entry only (probes/<platform>/tracer-worker.ts): createTraceRecorder, which builds the recorder itself.
 * A worker cannot be handed an object, so the thread builds its recorder where it runs; every other
 * probe module receives that object, typed by the kit's index. Kept apart from the index so that
 * loading a probe (every audit) does not load the recorder and its lineage modules.
 */
import { TraceRecorder as Recording } from '../trace/trace-recorder.js';
import type { ProcessReader, TraceRecorder } from '../probe-kit/recorder.js';

/** A recorder for the command `argv` traced by `tracerPid`, reading tables through `reader`. */
export function createTraceRecorder(argv: string[], tracerPid: number, reader: ProcessReader, options: { fullStdio?: boolean; inheritance?: 'exec' | 'handles' } = {}): TraceRecorder {
  return new Recording(argv, tracerPid, reader, options);
}
