/**
 * "Same open file description?" through kcmp(KCMP_FILE): two opens of one file are told apart,
 * two copies of one open (fork, dup, SCM_RIGHTS) are not. Needs ptrace-read access to both
 * processes (same user, or CAP_SYS_PTRACE; yama's ptrace_scope does not apply to reads) and a
 * kernel with CONFIG_KCMP.
 */
import { OsError, errnoError, osFailure } from '../../src/probe-kit/index.js';
import { errno } from './libc.js';
import { kcmp } from './libc-process.js';
import { readProcStat } from './process-info.js';

const KCMP_FILE = 0;
const KCMP_FILES = 2;

/** Do `fdA` of `pidA` and `fdB` of `pidB` name one open file description? Throws a typed error when the kernel cannot tell. */
export function sameOpenFile(pidA: number, fdA: number, pidB: number, fdB: number): boolean {
  const r = kcmp(pidA, pidB, KCMP_FILE, fdA, fdB);
  if (r === undefined) throw new OsError(`kcmp on ${process.arch}`, 'ENOSYS');
  if (r >= 0) return r === 0;
  const code = errno();
  // ESRCH: a process gone; EBADF: a descriptor closed meanwhile (or never open there).
  const gonePid = readProcStat(pidA) === undefined ? pidA : pidB;
  throw osFailure(errnoError(`kcmp ${pidA}:${fdA} ${pidB}:${fdB}`, code), gonePid, `kcmp ${pidA}:${fdA} ${pidB}:${fdB}`, () => readProcStat(gonePid) === undefined);
}

/** Do `pidA` and `pidB` share one descriptor table (clone with CLONE_FILES)? undefined when the kernel cannot tell. */
export function sameDescriptorTable(pidA: number, pidB: number): boolean | undefined {
  const r = kcmp(pidA, pidB, KCMP_FILES, 0, 0);
  return r === undefined || r < 0 ? undefined : r === 0;
}
