/**
 * The probe kit: everything a probe (probes/<platform>/) may import from fdscan, and the only
 * module it imports from src/ besides src/tracer-thread/recorder.ts, for a tracer thread's entry
 * (test/probes/kit-boundary.test.ts fails on any other). Porting to a
 * new platform is reading this and contract.ts beside it, and copying a folder of probes/.
 *
 * - the contract: the Probe shape, its optional members and capabilities, the descriptor row;
 * - the typed errors a probe throws, and how errors cross a thread;
 * - the trace: the recorder a tracer thread feeds, the reader it implements, the result's shapes;
 * - small pure helpers every platform needs: addresses, exit statuses, signal masks, the stub's script
 *   and shell step, the shapes of descriptor link text.
 */
export * from './contract.js';
export {
  AccessDenied, FdscanError, NoSuchProcess, OsError, ParseError, TimeLimitExceeded,
  crossesThreads, deserializeError, errnoError, errnoOf, limitReached, osErrorName, osFailure, serializeError, type SerializedError,
} from '../errors.js';
export type { CallStack, MadeCall, ProcessReader, RecordedStack, TableRead, TableReadOptions, TraceRecorder } from './recorder.js';
// The recorder's type only: a probe receives the object; a tracer thread's entry builds it with src/tracer-thread/recorder.ts.
export type { DescriptorOrigin, OriginCall, ProtocolPass, StackFrame, TraceResult } from './trace-result.js';
export { formatIpv6 } from './net-address.js';
export { DELETED_SUFFIX, hasDeletedSuffix, linkShape, withoutDeletedSuffix, type LinkShape } from './link-text.js';
export { shellStatus, signalName } from './exit-status.js';
export { signalsInMask, statusSignals, type SignalMaskField } from './signal-mask.js';
export { entryValue, shellStep, splitAtNul, type CallerState, type ShellStep } from './shell-step.js';
export { STOP_THEN_EXEC } from './stop-stub.js';
