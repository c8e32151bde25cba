/**
 * libproc functions fdscan calls on macOS, each prototype explicit, bound on first call (importing
 * this module elsewhere is harmless). They return a byte count, 0 or -1 on failure with errno set;
 * `errno()` right after the call reads it.
 */
import { koffi, lazyLibrary } from '../native-library.js';
import { darwinTypes } from './types.js';
import { constants } from 'node:os';

// libproc lives in libSystem (in the dyld shared cache); libproc.dylib is its usual name.
const fn = lazyLibrary<number>((k) => {
  try {
    return k.load('/usr/lib/libproc.dylib');
  } catch {
    return k.load('/usr/lib/libSystem.B.dylib');
  }
}, darwinTypes);

export const PROC_ALL_PIDS = 1;
export const PROC_PIDLISTFDS = 1;
export const PROC_PIDT_SHORTBSDINFO = 13;
export const PROC_PIDFDVNODEPATHINFO = 2;
export const PROC_PIDFDSOCKETINFO = 3;
export const PROC_PIDFDPIPEINFO = 6;
export const PROC_PIDFDKQUEUEINFO = 7;
export const PROC_FP_CLEXEC = 2;
export const PROX_FDTYPE = { ATALK: 0, VNODE: 1, SOCKET: 2, PSHM: 3, PSEM: 4, KQUEUE: 5, PIPE: 6, FSEVENTS: 7, NETPOLICY: 9, CHANNEL: 10, NEXUS: 11 } as const;
/** errno values of the running system (the same numbers on macOS and Linux for these four). */
export const { ESRCH, EPERM, EBADF, EACCES } = constants.errno;

export const errno = (): number => koffi().errno();

export const procListPids = (type: number, typeinfo: number, into: Buffer | null): number =>
  fn('int proc_listpids(uint32_t type, uint32_t typeinfo, _Out_ void *buffer, int buffersize)')(type, typeinfo, into, into ? into.length : 0);
export const procPidInfo = (pid: number, flavor: number, arg: number, into: Buffer | null): number =>
  fn('int proc_pidinfo(darwin_pid_t pid, int flavor, uint64_t arg, _Out_ void *buffer, int buffersize)')(pid, flavor, arg, into, into ? into.length : 0);
export const procPidFdInfo = (pid: number, fd: number, flavor: number, into: Buffer): number =>
  fn('int proc_pidfdinfo(darwin_pid_t pid, int fd, int flavor, _Out_ void *buffer, int buffersize)')(pid, fd, flavor, into, into.length);
export const procPidPath = (pid: number, into: Buffer): number =>
  fn('int proc_pidpath(darwin_pid_t pid, _Out_ void *buffer, uint32_t buffersize)')(pid, into, into.length);
