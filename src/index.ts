/** fdscan's public API. */
export { DESCRIPTOR_TYPES, PEER_LIMIT } from './probe-kit/contract.js';
export type {
  Descriptor, DescriptorType, AccessMode, SocketInfo, PeerHolder, ProcessAudit, ProcessInfo,
  Probe, ProbeCapabilities, ListOptions, CloseOnExecResult, ExecTracer, TraceRequest, TraceSession,
  DescriptorLimits, DescriptorTally, TallyRequest,
} from './probe-kit/contract.js';
export { FdscanError, NoSuchProcess, AccessDenied, OsError, UnsupportedPlatform, ParseError, UsageError, TimeLimitExceeded } from './errors.js';
export { listDescriptors, countDescriptors, auditProcesses, auditAllProcesses, filterAudit, descriptorLimits, knownTypes } from './audit/audit.js';
export type { AuditOptions, AuditOutcome } from './audit/audit.js';
export { probeFor } from './platform/probe.js';
export { invokingProcess } from './launch/invoker.js';
export { traceCommand, CommandNotFound } from './trace/trace-command.js';
export type { TraceOptions } from './trace/trace-command.js';
export type {
  TraceResult, TracedProcess, TracedDescriptor, ExecRecord, ProcessExit, TraceEvent, DescriptorSource,
  DescriptorVia, ProcessRef, DescriptorOrigin, OriginCall, OriginRecord, OriginTracing, StackFrame,
} from './probe-kit/trace-result.js';
export { OriginIndex } from './trace/origins.js';
export { diffProcessPair } from './trace/pair-diff.js';
export type { PairDiff, SharedDescriptor } from './trace/pair-diff.js';
export { inheritDiff } from './trace/inherit-probe.js';
export type { InheritDiffResult, ReceivedDescriptor } from './trace/inherit-probe.js';
export { markAllCloseOnExec } from './launch/close-fds.js';
export type { CloseOnExecOptions } from './launch/close-fds.js';
export { inheritDiffDocument, INHERIT_DIFF_SCHEMA } from './render/inherit-diff-json.js';
export { trackDescriptors, assertNoDescriptorLeaks, renderTrackResult, DescriptorLeakError } from './track/track-descriptors.js';
export type { TrackOptions, TrackResult, TrackedRun } from './track/track-descriptors.js';
export { judgeTrace, verdictPassed } from './gate/gate-analysis.js';
export { gateOutcome } from './gate/gate-outcome.js';
export type { GateOutcome, OutcomeOptions, OutcomeReason } from './gate/gate-outcome.js';
export type {
  GateVerdict, GateFinding, InheritedLeak, ReexecGrowth, GateProcess, GateReceiver, GateOpener, AllowedGroup, ProtocolGroup,
} from './gate/gate-finding.js';
export type { FixHint, FixLanguage } from './gate/fix-hints.js';
export { applyBaseline, baselineEntries, readBaseline, writeBaseline, BASELINE_SCHEMA } from './gate/baseline.js';
export type { BaselineEntry, BaselineExcess, BaselineMatch } from './gate/baseline.js';
export type { ProtocolPass, ProtocolName } from './trace/descriptor-protocols.js';
export { parseAllow } from './gate/allow-list.js';
export type { AllowRule } from './gate/allow-list.js';
export { gateDocument, GATE_SCHEMA } from './render/gate-report.js';
export type { GateReportContext } from './render/gate-report.js';
export { runLifecycle } from './lifecycle/popen-lifecycle.js';
export type { LifecycleResult, LifecycleStep, LifecycleStepName, OutlivedDescriptor } from './lifecycle/popen-lifecycle.js';
export { watchProcess } from './watch/watch-process.js';
export type { WatchOptions, WatchSample, WatchSummary } from './watch/watch-process.js';
export { tallyDescriptors } from './audit/tally.js';
export { selectProcesses } from './audit/selection.js';
export type { Selection, Selected } from './audit/selection.js';
export { topProcesses } from './audit/top.js';
export type { TopOptions, TopProcess, TopResult, TopSort } from './audit/top.js';
export { openMetrics, collectMetrics } from './metrics/collect.js';
export type { MetricsOptions, MetricsReading, ProcessReading, CommandReading } from './metrics/collect.js';
export { renderExposition, CONTENT_TYPES } from './metrics/exposition.js';
export type { ExpositionFormat } from './metrics/exposition.js';
export { startMetricsServer } from './metrics/serve.js';
export type { ServeOptions, MetricsServer } from './metrics/serve.js';
