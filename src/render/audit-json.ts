/** The versioned JSON documents of the audit command. */
import { OPTIONAL_PROCESS_FIELDS, type AuditOutcome, type ProcessAudit } from '../probe-contract.js';
import { PROCESS_FIELDS, jsonFields } from './columns.js';

export const AUDIT_SCHEMA = 'fdscan/audit@1';
export const AUDIT_SET_SCHEMA = 'fdscan/audit-set@1';

/**
 * One process: `{"schema":"fdscan/audit@1","pid",...,"fds":[...],"errors":[]}`: its documented
 * fields only (columns.ts), in the order the probe gave them; of the optional ones, those `fields`
 * names (--fields; absent: all).
 */
export function auditDocument(audit: ProcessAudit, fields?: readonly string[]): Record<string, unknown> {
  const document: Record<string, unknown> = { schema: AUDIT_SCHEMA, ...jsonFields(audit, PROCESS_FIELDS) };
  if (fields) for (const name of OPTIONAL_PROCESS_FIELDS) if (!fields.includes(name)) delete document[name];
  return document;
}

/** A pid that could not be audited, as the JSON documents list it. */
export interface AuditFailure {
  pid: number;
  /** The error's stable code: EACCESS_DENIED, ENOPROCESS (vanished during the scan), EOS, ... */
  code: string;
  message: string;
}

/** Several processes (several pids, or --all): every audit, and every pid that failed with its code. */
export function auditSetDocument(outcomes: AuditOutcome[], fields?: readonly string[]): Record<string, unknown> {
  const processes: Record<string, unknown>[] = [];
  const failures: AuditFailure[] = [];
  for (const o of outcomes) {
    if (o.audit) processes.push(auditDocument(o.audit, fields));
    else failures.push({ pid: o.pid, code: o.error.code, message: o.error.message });
  }
  return { schema: AUDIT_SET_SCHEMA, processes, failures };
}
