/**
 * The handle table of one process: NtQueryInformationProcess(ProcessHandleInformation, 51) where
 * the system has it (Windows 8+), else the whole machine's NtQuerySystemInformation(
 * SystemExtendedHandleInformation, 64) filtered by pid. Both buffers grow while the kernel says
 * STATUS_INFO_LENGTH_MISMATCH (handles are opened between the size probe and the read).
 */
import { koffi, winTypes, type Handle } from './types.js';
import {
  ProcessHandleInformation, STATUS_BUFFER_TOO_SMALL, STATUS_INFO_LENGTH_MISMATCH, STATUS_INVALID_INFO_CLASS,
  STATUS_NOT_IMPLEMENTED, SystemExtendedHandleInformation, ntQueryInformationProcess, ntQuerySystemInformation,
} from './ntdll.js';
import { OsError, crossesThreads } from '../../src/probe-kit/index.js';

/** OBJ_INHERIT in HandleAttributes: CreateProcess with bInheritHandles passes the handle on. */
export const OBJ_INHERIT = 0x2;
export const OBJ_PROTECT_CLOSE = 0x1;

/** One row of a handle table. */
export interface HandleEntry {
  handle: number;
  grantedAccess: number;
  objectTypeIndex: number;
  attributes: number;
  /** The kernel object's address (class 64 only; 0 where the system hides it): one object, one address. */
  object?: bigint;
}

export type EnumerationMethod = 'process-handle-information' | 'system-extended-handle-information';

export interface HandleTable {
  method: EnumerationMethod;
  entries: HandleEntry[];
}

const MAX_BUFFER = 1 << 30;

/** Call `query` with a growing buffer until it stops asking for more; returns status and buffer. */
function growingQuery(initial: number, query: (into: Buffer, needed: [number]) => number): { status: number; buffer: Buffer } {
  let size = initial;
  for (;;) {
    const buffer = Buffer.alloc(size);
    const needed: [number] = [0];
    const status = query(buffer, needed);
    if (status !== STATUS_INFO_LENGTH_MISMATCH && status !== STATUS_BUFFER_TOO_SMALL) return { status, buffer };
    // More handles may appear before the retry: ask for headroom beyond what was reported.
    size = Math.max(size * 2, needed[0] + 64 * 1024);
    if (size > MAX_BUFFER) return { status, buffer };
  }
}

const hex = (status: number): string => `0x${status.toString(16).padStart(8, '0')}`;

/** Why a read of the handle table failed, with the NTSTATUS. */
export class HandleTableError extends OsError {
  static { crossesThreads(this); }
  constructor(call: string, readonly status: number) {
    super(call, `NTSTATUS ${hex(status)}`);
  }
}

/** Handles of `pid`; `process` is a handle to it with PROCESS_QUERY_INFORMATION (or null). */
export function readHandleTable(pid: number, process: Handle | null, options: { forceSystemTable?: boolean } = {}): HandleTable {
  if (process !== null && !options.forceSystemTable) {
    const own = readProcessHandleInformation(process);
    if (own) return { method: 'process-handle-information', entries: own };
  }
  return { method: 'system-extended-handle-information', entries: readSystemHandleTable(pid) };
}

/** Class 51, or undefined where the system does not know it (Windows 7, wine 8). */
function readProcessHandleInformation(process: Handle): HandleEntry[] | undefined {
  const { status, buffer } = growingQuery(64 * 1024, (into, needed) => ntQueryInformationProcess(process, ProcessHandleInformation, into, needed));
  if (status === STATUS_INVALID_INFO_CLASS || status === STATUS_NOT_IMPLEMENTED) return undefined;
  // Any other failure (access denied on a protected process): the system table may still answer.
  if (status !== 0) return undefined;
  const k = koffi();
  const entryType = winTypes().PROCESS_HANDLE_TABLE_ENTRY_INFO!;
  const pointer = k.sizeof('ULONG_PTR');
  const count = Number(k.decode(buffer, 0, 'ULONG_PTR'));
  const stride = k.sizeof(entryType);
  const entries: HandleEntry[] = [];
  for (let i = 0; i < count; i++) {
    const e = k.decode(buffer, 2 * pointer + i * stride, entryType) as Record<string, number>;
    entries.push({ handle: Number(e.HandleValue), grantedAccess: e.GrantedAccess!, objectTypeIndex: e.ObjectTypeIndex!, attributes: e.HandleAttributes! });
  }
  return entries;
}

/** Class 64: every handle of the machine, kept for `pid` only. */
function readSystemHandleTable(pid: number): HandleEntry[] {
  return readSystemHandles([pid]).get(pid) ?? [];
}

/**
 * Class 64 once, for several processes: one snapshot of the machine, so the tables of a creator
 * and its new child are read at one instant, each entry with its object's address.
 */
export function readSystemHandles(pids: readonly number[]): Map<number, HandleEntry[]> {
  const { status, buffer } = growingQuery(1 << 20, (into, needed) => ntQuerySystemInformation(SystemExtendedHandleInformation, into, needed));
  if (status !== 0) throw new HandleTableError('NtQuerySystemInformation(SystemExtendedHandleInformation)', status);
  const k = koffi();
  const entryType = winTypes().SYSTEM_HANDLE_TABLE_ENTRY_INFO_EX!;
  const pointer = k.sizeof('ULONG_PTR');
  const count = Number(k.decode(buffer, 0, 'ULONG_PTR'));
  const stride = k.sizeof(entryType);
  const pidOffset = k.offsetof(entryType, 'UniqueProcessId');
  const tables = new Map<number, HandleEntry[]>(pids.map((pid) => [pid, []]));
  for (let i = 0; i < count; i++) {
    const at = 2 * pointer + i * stride;
    // Compare the pid before decoding the whole entry: the table holds every process's handles.
    const entries = tables.get(Number(k.decode(buffer, at + pidOffset, 'ULONG_PTR')));
    if (!entries) continue;
    const e = k.decode(buffer, at, entryType) as Record<string, number> & { Object: unknown };
    entries.push({
      handle: Number(e.HandleValue), grantedAccess: e.GrantedAccess!, objectTypeIndex: e.ObjectTypeIndex!, attributes: e.HandleAttributes!,
      object: e.Object === null ? 0n : k.address(e.Object),
    });
  }
  for (const entries of tables.values()) entries.sort((a, b) => a.handle - b.handle);
  return tables;
}
