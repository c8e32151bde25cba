/**
 * Handle inheritance on Windows: the remedy (make this process's handles non-inheritable) and the
 * inherit diff (which of a parent's handles a child really received).
 */
import { FdscanError, type CloseOnExecResult, type Descriptor, type ProcessAudit } from '../../src/probe-kit/index.js';
import { readHandleTable } from './handle-table.js';
import { HANDLE_FLAG_INHERIT, getCurrentProcess, getHandleInformation, lastError, setHandleInformation } from './kernel32.js';

export interface NonInheritableResult {
  /** Handles whose HANDLE_FLAG_INHERIT was set and is now clear. */
  cleared: number[];
  /** Handles whose flag could not be cleared, with the Win32 error. */
  failed: Array<{ handle: number; error: number }>;
}

/**
 * Windows' markAllCloseOnExec(): clear HANDLE_FLAG_INHERIT on every handle of this process, so a
 * child started later with bInheritHandles (as node's child_process does) receives none of them
 * except the stdio handles it is given explicitly (libuv duplicates those at spawn time).
 */
export function markAllHandlesNonInheritable(keep: readonly number[] = []): NonInheritableResult {
  const result: NonInheritableResult = { cleared: [], failed: [] };
  const { entries } = readHandleTable(process.pid, getCurrentProcess());
  for (const entry of entries) {
    if (keep.includes(Number(entry.handle))) continue;
    const handle = BigInt(entry.handle);
    const flags: [number] = [0];
    // The live flag, not the snapshot's attributes: another thread may have changed it.
    if (!getHandleInformation(handle, flags) || (flags[0] & HANDLE_FLAG_INHERIT) === 0) continue;
    if (setHandleInformation(handle, HANDLE_FLAG_INHERIT, 0)) result.cleared.push(entry.handle);
    else result.failed.push({ handle: entry.handle, error: lastError() });
  }
  return result;
}

export interface InheritDiff {
  /** Parent handles marked inheritable that the child holds with the same value and type. */
  inherited: Descriptor[];
  /** Parent handles marked inheritable that the child does not hold (closed by it, or not passed). */
  notReceived: Descriptor[];
}

/**
 * Which handles a child inherited: a handle value present in the parent with OBJ_INHERIT and in the
 * child with the same object type (values are per process; inheritance keeps them identical).
 * `parent` is a snapshot taken just before the child started; `child` is what the child reported
 * of itself (e.g. src/cli/report-own-descriptors.ts).
 */
export function inheritedHandles(parent: ProcessAudit | Descriptor[], child: ProcessAudit | Descriptor[]): InheritDiff {
  const parentRows = Array.isArray(parent) ? parent : parent.fds;
  const childRows = new Map((Array.isArray(child) ? child : child.fds).map((row) => [row.fd, row]));
  const diff: InheritDiff = { inherited: [], notReceived: [] };
  for (const row of parentRows) {
    if (row.inheritable !== true) continue;
    const there = childRows.get(row.fd);
    if (there && there.type === row.type) diff.inherited.push(row);
    else diff.notReceived.push(row);
  }
  return diff;
}

/** The probe's remedy: every handle non-inheritable but `keep`; a handle that refuses is a typed error. */
export function markAllNonInheritable(keep: readonly number[]): CloseOnExecResult {
  const result = markAllHandlesNonInheritable(keep);
  if (result.failed.length > 0) {
    throw new FdscanError('ESETHANDLE', `could not clear HANDLE_FLAG_INHERIT on ${result.failed.length} handle(s): ${result.failed.map((f) => `${f.handle} (error ${f.error})`).join(', ')}`);
  }
  // stdio reaches a child through STARTUPINFO anyway.
  return { method: 'SetHandleInformation', inheritable: [...keep] };
}
