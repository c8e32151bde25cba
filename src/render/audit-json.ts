/** The versioned JSON documents of the audit command. */
import { OPTIONAL_PROCESS_FIELDS, type AuditOutcome, type ProcessAudit } from '../probe-kit/contract.js';
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

/** Rows per piece of jsonPieces: ~100 KB of text, so 20,000 rows are never one string. */
const ROWS_PER_PIECE = 400;

/**
 * A document's JSON text in pieces, byte for byte what JSON.stringify gives: each process's `fds`
 * (and a set's `processes`) written a few hundred rows at a time, so a 10,000-row audit is never
 * one 3 MB string, then a copy of it with the newline, then its UTF-8 bytes at once.
 */
export function* jsonPieces(document: Record<string, unknown>): Generator<string> {
  let first = true;
  for (const key of Object.keys(document)) {
    const value = document[key];
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    const name = `${first ? '{' : ','}${JSON.stringify(key)}:`;
    first = false;
    if ((key === 'fds' || key === 'processes') && Array.isArray(value)) {
      yield `${name}[`;
      if (key === 'processes') {
        for (let i = 0; i < value.length; i++) {
          if (i > 0) yield ',';
          yield* jsonPieces(value[i] as Record<string, unknown>);
        }
      } else {
        for (let i = 0; i < value.length; i += ROWS_PER_PIECE) {
          if (i > 0) yield ',';
          // A slice of a string is a view of it (V8's sliced string), written without a copy;
          // joined to the comma it would be copied once more when written.
          yield JSON.stringify(value.slice(i, i + ROWS_PER_PIECE)).slice(1, -1);
        }
      }
      yield ']';
    } else {
      yield `${name}${JSON.stringify(value)}`;
    }
  }
  yield first ? '{}' : '}';
}
