/** fdscan's public API. */
export { DESCRIPTOR_TYPES, PEER_LIMIT } from './probe-contract.js';
export type {
  Descriptor, DescriptorType, AccessMode, SocketInfo, PeerHolder, ProcessAudit, ProcessInfo,
  Probe, ProbeCapabilities, ListOptions, CloseOnExecResult, ExecTracer, TraceRequest, TraceSession,
} from './probe-contract.js';
export { FdscanError, NoSuchProcess, AccessDenied, OsError, UnsupportedPlatform, ParseError, UsageError } from './errors.js';
export { listDescriptors, countDescriptors, auditProcesses, auditAllProcesses, filterAudit, knownTypes } from './audit.js';
export type { AuditOptions, AuditOutcome } from './audit.js';
export { probeFor } from './probe.js';
export { invokingProcess } from './invoker.js';
export { traceCommand, CommandNotFound } from './trace/trace-command.js';
export type { TraceOptions } from './trace/trace-command.js';
export type {
  TraceResult, TracedProcess, TracedDescriptor, ExecRecord, ProcessExit, TraceEvent, DescriptorSource,
  DescriptorVia, ProcessRef,
} from './trace/trace-result.js';
export { diffProcessPair } from './trace/pair-diff.js';
export type { PairDiff, SharedDescriptor } from './trace/pair-diff.js';
export { inheritDiff } from './trace/inherit-probe.js';
export type { InheritDiffResult, ReceivedDescriptor } from './trace/inherit-probe.js';
export { markAllCloseOnExec } from './close-fds.js';
export type { CloseOnExecOptions } from './close-fds.js';
export { inheritDiffDocument, INHERIT_DIFF_SCHEMA } from './render/inherit-diff-json.js';
export { trackDescriptors, assertNoDescriptorLeaks, renderTrackResult, DescriptorLeakError } from './gate/track-descriptors.js';
export type { TrackOptions, TrackResult, TrackedRun } from './gate/track-descriptors.js';
export { judgeTrace } from './gate/gate-analysis.js';
export type { GateVerdict, GateFinding, InheritedLeak, ReexecGrowth, GateProcess } from './gate/gate-analysis.js';
export { parseAllow } from './gate/allow-list.js';
export type { AllowRule } from './gate/allow-list.js';
export { gateDocument, GATE_SCHEMA } from './render/gate-report.js';
export { runLifecycle } from './lifecycle/popen-lifecycle.js';
export type { LifecycleResult, LifecycleStep, LifecycleStepName, OutlivedDescriptor } from './lifecycle/popen-lifecycle.js';
export { watchProcess } from './lifecycle/watch-process.js';
export type { WatchOptions, WatchSample, WatchSummary } from './lifecycle/watch-process.js';
