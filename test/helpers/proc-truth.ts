/**
 * What /proc says of a process, read here with Node's fs, independently of fdscan's probe: the
 * truth the metrics and `top` tests compare fdscan with.
 */
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';

export interface ProcTruth {
  open: number;
  inheritable: number;
  byType: Record<string, number>;
  soft: number | null;
  hard: number | null;
  comm: string;
  uid: number;
}

const TYPES: Array<[number, string]> = [[0o100000, 'REG'], [0o040000, 'DIR'], [0o010000, 'FIFO'], [0o020000, 'CHR'], [0o060000, 'BLK'], [0o140000, 'SOCK']];

/** Read `pid`'s descriptors, limits and name from /proc (the process must hold still). */
export function procTruth(pid: number): ProcTruth {
  const fds = readdirSync(`/proc/${pid}/fd`);
  const byType: Record<string, number> = {};
  let inheritable = 0;
  for (const fd of fds) {
    const flags = parseInt(/^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'latin1'))![1]!, 8);
    if ((flags & 0o2000000) === 0) inheritable++;
    const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    const anon = /^anon_inode:\[?([^\]]*)\]?$/.exec(link);
    const type = anon ? anon[1]! : TYPES.find(([bits]) => (statSync(`/proc/${pid}/fd/${fd}`).mode & 0o170000) === bits)?.[1] ?? 'UNKNOWN';
    byType[type] = (byType[type] ?? 0) + 1;
  }
  return {
    open: fds.length, inheritable, byType, ...procLimits(pid),
    comm: readFileSync(`/proc/${pid}/comm`, 'latin1').replace(/\n$/, ''),
    uid: statSync(`/proc/${pid}`).uid,
  };
}

/** The soft and hard `Max open files` of /proc/PID/limits. */
export function procLimits(pid: number): { soft: number | null; hard: number | null } {
  const line = readFileSync(`/proc/${pid}/limits`, 'latin1').split('\n').find((l) => l.startsWith('Max open files'))!;
  const [soft, hard] = line.slice('Max open files'.length).trim().split(/\s+/).map((v) => (v === 'unlimited' ? null : Number(v)));
  return { soft: soft!, hard: hard! };
}
