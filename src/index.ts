/** fdscan's public API. */
export type {
  Descriptor, DescriptorType, AccessMode, SocketInfo, PeerHolder, ProcessAudit, ProcessInfo,
  Probe, ProbeCapabilities, ListOptions,
} from './probe-contract.js';
export { FdscanError, NoSuchProcess, AccessDenied, UnsupportedPlatform, ParseError, UsageError } from './errors.js';
export { listDescriptors, countDescriptors, auditProcesses, auditAllProcesses, filterAudit } from './audit.js';
export type { AuditOptions, AuditResult, MachineAudit } from './audit.js';
export { probeFor } from './probe.js';
export { invokingProcess } from './invoker.js';
