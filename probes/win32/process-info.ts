/** Pids, names and parents of Windows processes from a Toolhelp32 snapshot. */
import { NoSuchProcess, OsError, type ProcessInfo } from '../../src/probe-kit/index.js';
import { koffi, winTypes } from './types.js';
import {
  INVALID_HANDLE_VALUE, TH32CS_SNAPPROCESS, closeHandle, createToolhelp32Snapshot, lastError, process32FirstW, process32NextW,
} from './kernel32.js';

export interface ProcessEntry {
  pid: number;
  ppid: number;
  exe: string;
}

/** Every process the snapshot shows (all of them: Toolhelp needs no rights on the processes). */
export function processEntries(): ProcessEntry[] {
  const snapshot = createToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snapshot === INVALID_HANDLE_VALUE) throw new OsError('CreateToolhelp32Snapshot', `Windows error ${lastError()}`);
  const entries: ProcessEntry[] = [];
  try {
    const entry: Record<string, unknown> = { dwSize: koffi().sizeof(winTypes().PROCESSENTRY32W!) };
    for (let ok = process32FirstW(snapshot, entry); ok; ok = process32NextW(snapshot, entry)) {
      entries.push({ pid: entry.th32ProcessID as number, ppid: entry.th32ParentProcessID as number, exe: entry.szExeFile as string });
    }
  } finally {
    closeHandle(snapshot);
  }
  return entries;
}

/** Name and parent of `pid`; argv is known for this process only (others need their PEB). */
export function win32ProcessInfo(pid: number): ProcessInfo {
  const entry = processEntries().find((e) => e.pid === pid);
  if (!entry) throw new NoSuchProcess(pid);
  return { pid, ppid: entry.ppid, command: entry.exe, argv: pid === process.pid ? [...process.argv] : [] };
}

export function listWin32Pids(): number[] {
  return processEntries().map((e) => e.pid).sort((a, b) => a - b);
}
