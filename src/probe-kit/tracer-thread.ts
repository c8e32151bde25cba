/**
 * For a tracer thread's entry only (probes/<platform>/tracer-worker.ts): the trace recorder itself.
 * A worker cannot be handed an object, so the thread builds its recorder where it runs; every other
 * probe module receives that object, typed by the kit's index. Kept apart from the index so that
 * loading a probe (every audit) does not load the recorder and its lineage modules.
 */
export { TraceRecorder } from '../trace/trace-recorder.js';
