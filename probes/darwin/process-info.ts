/** Names, parents and owners of macOS processes, and the pid list, from libproc. */
import { AccessDenied, NoSuchProcess, OsError, type ProcessInfo } from '../../src/probe-kit/index.js';
import { koffi, darwinTypes } from './types.js';
import { EACCES, EPERM, ESRCH, PROC_ALL_PIDS, PROC_PIDT_SHORTBSDINFO, errno, procListPids, procPidInfo } from './libproc.js';

/** Throw the typed error for a failed whole-process call: the one mapping of this probe. */
export function processError(pid: number, code: number, call: string): never {
  if (code === EPERM || code === EACCES) throw new AccessDenied(pid, `${call}: permission denied; root or the process's own user can read it`);
  if (code === ESRCH) throw new NoSuchProcess(pid);
  throw new OsError(call, code);
}

/** Name, parent and owner of `pid` (PROC_PIDT_SHORTBSDINFO works for other users' processes). */
export function darwinProcessInfo(pid: number): ProcessInfo {
  const buffer = Buffer.alloc(koffi().sizeof(darwinTypes().proc_bsdshortinfo!));
  const size = procPidInfo(pid, PROC_PIDT_SHORTBSDINFO, 0, buffer);
  if (size <= 0) processError(pid, errno(), 'proc_pidinfo(PROC_PIDT_SHORTBSDINFO)');
  const info = koffi().decode(buffer, darwinTypes().proc_bsdshortinfo!) as { pbsi_ppid: number; pbsi_comm: string; pbsi_uid: number };
  return { pid, ppid: info.pbsi_ppid, command: info.pbsi_comm, argv: pid === process.pid ? [...process.argv] : [], uid: info.pbsi_uid };
}

export function listDarwinPids(): number[] {
  const bytes = procListPids(PROC_ALL_PIDS, 0, null);
  const buffer = Buffer.alloc(Math.max(bytes, 0) + 256 * 4);
  const got = procListPids(PROC_ALL_PIDS, 0, buffer);
  const pids: number[] = [];
  for (let i = 0; i + 4 <= got; i += 4) {
    const pid = buffer.readInt32LE(i);
    if (pid > 0) pids.push(pid);
  }
  return pids.sort((a, b) => a - b);
}
