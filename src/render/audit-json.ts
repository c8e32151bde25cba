/** The versioned JSON documents of the audit command. */
import type { ProcessAudit } from '../probe-contract.js';

export const AUDIT_SCHEMA = 'fdscan/audit@1';
export const AUDIT_SET_SCHEMA = 'fdscan/audit-set@1';

/** One process: `{"schema":"fdscan/audit@1","pid",...,"fds":[...],"errors":[]}`. */
export function auditDocument(audit: ProcessAudit): Record<string, unknown> {
  return { schema: AUDIT_SCHEMA, ...audit };
}

export interface AuditFailure {
  pid: number;
  code: string;
  message: string;
}

/** Several processes (several pids, or --all): audits plus per-pid failures. */
export function auditSetDocument(audits: ProcessAudit[], failures: AuditFailure[]): Record<string, unknown> {
  return { schema: AUDIT_SET_SCHEMA, processes: audits.map(auditDocument), failures };
}
