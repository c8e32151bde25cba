/**
 * Reads every handle of a Windows process: the handle table, the object type of each handle, and
 * for File objects what the name helper learns of them.
 *
 * On the main thread only calls that cannot wait on a file's lock: the handle table,
 * DuplicateHandle, NtQueryObject(ObjectTypeInformation), GetFileType, GetHandleInformation and
 * NtQueryObject(ObjectNameInformation) of objects that are not files. Everything that may block
 * (file names, socket queries) runs in the name helper with a timeout (file-names.ts).
 */
import { AccessDenied, NoSuchProcess, OsError, type AccessMode, type Descriptor, type ProcessAudit } from '../../src/probe-kit/index.js';
import { readHandleTable, OBJ_INHERIT, type HandleEntry, type HandleTable } from './handle-table.js';
import {
  DUPLICATE_SAME_ACCESS, ERROR_ACCESS_DENIED, ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER, HANDLE_FLAG_INHERIT,
  PROCESS_DUP_HANDLE, PROCESS_QUERY_INFORMATION, PROCESS_QUERY_LIMITED_INFORMATION, closeHandle, duplicateHandle,
  FILE_TYPE_CHAR, FILE_TYPE_DISK, FILE_TYPE_PIPE, getCurrentProcess, getFileType, getHandleInformation, getProcessId, getThreadId, lastError, openProcess,
} from './kernel32.js';
import { ObjectNameInformation, ObjectTypeInformation, ntQueryObject, unicodeStringAt } from './ntdll.js';
import { describeFileHandles } from './file-names.js';
import { processEntries } from './process-info.js';
import type { Handle } from './types.js';

/** An open handle to the audited process, or the pseudo-handle of this one. */
export interface Target {
  pid: number;
  self: boolean;
  process: Handle;
  close(): void;
}

/** Open `pid` for duplicating its handles; NoSuchProcess or AccessDenied when that fails. */
export function openTarget(pid: number): Target {
  if (pid === process.pid) return { pid, self: true, process: getCurrentProcess(), close() {} };
  let handle = openProcess(PROCESS_DUP_HANDLE | PROCESS_QUERY_INFORMATION, false, pid);
  let error = handle ? 0 : lastError();
  if (!handle && error === ERROR_ACCESS_DENIED) {
    handle = openProcess(PROCESS_DUP_HANDLE | PROCESS_QUERY_LIMITED_INFORMATION, false, pid);
    error = handle ? 0 : lastError();
  }
  if (!handle) {
    if (error === ERROR_INVALID_PARAMETER) throw new NoSuchProcess(pid);
    if (error === ERROR_ACCESS_DENIED) throw new AccessDenied(pid, 'OpenProcess(PROCESS_DUP_HANDLE) denied; run as the same user or elevated');
    throw new OsError(`OpenProcess(${pid})`, `Windows error ${error}`);
  }
  const process_ = handle;
  return { pid, self: false, process: process_, close: () => { closeHandle(process_); } };
}

/** The handle table of `pid` (exported for tests: which enumeration the system answered). */
export function handleTableOf(pid: number, options: { forceSystemTable?: boolean } = {}): HandleTable {
  const target = openTarget(pid);
  try {
    return readHandleTable(pid, target.process, options);
  } finally {
    target.close();
  }
}

/** Audit one process. */
export function auditWin32Process(pid: number): ProcessAudit {
  const entry = processEntries().find((e) => e.pid === pid);
  if (!entry) throw new NoSuchProcess(pid);
  const target = openTarget(pid);
  const audit: ProcessAudit = { pid, command: entry.exe, ppid: entry.ppid, platform: 'win32', fds: [], errors: [] };
  if (target.self) audit.argv = [...process.argv];
  try {
    const table = readHandleTable(pid, target.process);
    const typeNames = new Map<number, string>();
    const files: Descriptor[] = [];
    for (const item of table.entries) {
      const row = readHandle(target, item, typeNames);
      if (!row) continue;
      audit.fds.push(row);
      if (row.type === 'File' && row.error === undefined) files.push(row);
    }
    if (files.length > 0) describeFiles(pid, files, audit);
    audit.fds = audit.fds.filter((row) => row.type !== 'closed');
  } finally {
    target.close();
  }
  if (!processEntries().some((e) => e.pid === pid)) {
    audit.incomplete = true;
    audit.errors.push(`process ${pid} exited while it was read; handles may be missing`);
  }
  return audit;
}

/**
 * One handle's row (File rows are finished by describeFiles, or typed by GetFileType alone with
 * `fileType`: it never waits on the file's lock); undefined when it closed meanwhile.
 */
export function readHandle(target: Target, item: HandleEntry, typeNames: Map<number, string>, options: { fileType?: boolean } = {}): Descriptor | undefined {
  const row: Descriptor = { fd: item.handle, type: typeNames.get(item.objectTypeIndex) ?? 'UNKNOWN', target: '' };
  row.inheritable = (item.attributes & OBJ_INHERIT) !== 0;
  const value = BigInt(item.handle);
  let handle: Handle = value;
  if (target.self) {
    // For this process the live flag beats the snapshot: it may have changed since.
    const flags: [number] = [0];
    if (getHandleInformation(value, flags)) row.inheritable = (flags[0] & HANDLE_FLAG_INHERIT) !== 0;
    else if (lastError() === ERROR_INVALID_HANDLE) return undefined;
  } else {
    const copy: [Handle | null] = [null];
    if (!duplicateHandle(target.process, value, getCurrentProcess(), copy, 0, false, DUPLICATE_SAME_ACCESS) || !copy[0]) {
      const error = lastError();
      if (error === ERROR_INVALID_HANDLE) return undefined; // closed meanwhile
      row.error = `DuplicateHandle: error ${error}`;
      return row;
    }
    handle = copy[0];
  }
  try {
    let typeName = typeNames.get(item.objectTypeIndex);
    if (typeName === undefined) {
      typeName = queryText(handle, ObjectTypeInformation);
      if (typeName) typeNames.set(item.objectTypeIndex, typeName);
    }
    row.type = typeName || 'UNKNOWN';
    if (row.type === 'File') {
      const access = fileAccess(item.grantedAccess);
      if (access) row.access = access;
      if (options.fileType) row.type = FILE_TYPES[getFileType(handle)] ?? 'File';
    } else {
      row.target = objectTarget(row.type, handle);
    }
  } finally {
    if (!target.self) closeHandle(handle);
  }
  return row;
}

/** Text of the UNICODE_STRING at the start of an NtQueryObject answer, '' when it fails. */
function queryText(handle: Handle, infoClass: number): string {
  const buffer = Buffer.alloc(infoClass === ObjectNameInformation ? 4096 + 65536 : 4096);
  const needed: [number] = [0];
  return ntQueryObject(handle, infoClass, buffer, needed) === 0 ? unicodeStringAt(buffer) : '';
}

/** Name of a non-File object: processes and threads by id, others by object-manager name. */
function objectTarget(type: string, handle: Handle): string {
  if (type === 'Process') return `pid ${getProcessId(handle)}`;
  if (type === 'Thread') return `tid ${getThreadId(handle)}`;
  return queryText(handle, ObjectNameInformation);
}

/** GetFileType's answer as lsof's class: a disk file (or directory), a pipe or socket, a character device. */
const FILE_TYPES: Record<number, string> = { [FILE_TYPE_DISK]: 'REG', [FILE_TYPE_PIPE]: 'FIFO', [FILE_TYPE_CHAR]: 'CHR' };

const FILE_READ_DATA = 0x1, FILE_WRITE_DATA = 0x2, FILE_APPEND_DATA = 0x4;

/** r / w / rw from a File handle's granted access (generic rights are already mapped). */
function fileAccess(granted: number): AccessMode | undefined {
  const read = (granted & FILE_READ_DATA) !== 0;
  const write = (granted & (FILE_WRITE_DATA | FILE_APPEND_DATA)) !== 0;
  return read && write ? 'rw' : read ? 'r' : write ? 'w' : 'none';
}

/** Finish the File rows with what the name helper learned; a handle it found closed is dropped. */
function describeFiles(pid: number, files: Descriptor[], audit: ProcessAudit): void {
  const { answers, problems } = describeFileHandles(pid, files.map((row) => row.fd));
  audit.errors.push(...problems);
  for (const row of files) {
    const answer = answers.get(row.fd);
    if (!answer) continue;
    if ('closed' in answer) { row.type = 'closed'; continue; }
    if ('type' in answer) {
      row.type = answer.type;
      row.target = answer.target;
      if (answer.device !== undefined) row.device = answer.device;
      if (answer.inode !== undefined) row.inode = answer.inode;
      if (answer.socket) row.socket = answer.socket;
      if (answer.type === 'SOCK' || answer.type === 'FIFO') delete row.access;
    }
    if (answer.error !== undefined) row.error = answer.error;
  }
}
