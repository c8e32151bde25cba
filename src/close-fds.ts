/**
 * `markAllCloseOnExec`: make every descriptor of this process close-on-exec except 0, 1, 2 and
 * the kept ones, so that a program started next receives nothing else. One branch per platform.
 *
 * Linux: close_range(first, last, CLOSE_RANGE_CLOEXEC) over the gaps between kept descriptors
 * (Linux 5.11+); on older kernels (ENOSYS, EINVAL) fcntl(F_SETFD) on each descriptor listed in
 * /proc/self/fd. Kept descriptors and 0, 1, 2 get FD_CLOEXEC cleared (Node sets it on its stdio).
 */
import { readdirSync } from 'node:fs';
import { errno, closeRange, fcntlInt } from '../probes/linux/libc.js';
import { FdscanError, UnsupportedPlatform, osErrorName } from './errors.js';
import { markAllHandlesNonInheritable } from '../probes/win32/inheritance.js';

const CLOSE_RANGE_CLOEXEC = 1 << 2;
const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const LAST_FD = 0xffffffff;

/** What to leave inheritable. */
export interface CloseOnExecOptions {
  /** Descriptors above 2 that children should still receive. */
  keep?: number[];
}

/** What was done. */
export interface CloseOnExecResult {
  method: 'close_range' | 'fcntl' | 'SetHandleInformation';
  /** Descriptors left inheritable: 0, 1, 2 and the kept ones that are open. */
  inheritable: number[];
}

/** Mark every descriptor of this process close-on-exec but 0, 1, 2 and `keep`. */
export function markAllCloseOnExec(options: CloseOnExecOptions = {}): CloseOnExecResult {
  for (const fd of options.keep ?? []) {
    if (!Number.isInteger(fd) || fd < 0) throw new FdscanError('EUSAGE', `not a descriptor number: ${fd}`);
  }
  if (process.platform === 'linux') return markLinux(options.keep ?? []);
  if (process.platform === 'win32') {
    // Windows: clear HANDLE_FLAG_INHERIT; stdio reaches a child through STARTUPINFO anyway.
    const result = markAllHandlesNonInheritable(options.keep ?? []);
    if (result.failed.length > 0) {
      throw new FdscanError('ESETHANDLE', `could not clear HANDLE_FLAG_INHERIT on ${result.failed.length} handle(s): ${result.failed.map((f) => `${f.handle} (error ${f.error})`).join(', ')}`);
    }
    return { method: 'SetHandleInformation', inheritable: [...(options.keep ?? [])] };
  }
  throw new UnsupportedPlatform(process.platform);
}

function markLinux(keep: number[]): CloseOnExecResult {
  const kept = [...new Set([0, 1, 2, ...keep])].sort((a, b) => a - b);
  let method: CloseOnExecResult['method'] = 'close_range';
  // The gaps between kept descriptors: [3, k1-1], [k1+1, k2-1], ..., [kn+1, ~0U].
  let first = 0;
  for (const fd of [...kept, LAST_FD + 1]) {
    if (fd > first && method === 'close_range' && closeRange(first, fd - 1, CLOSE_RANGE_CLOEXEC) !== 0) method = 'fcntl';
    first = fd + 1;
  }
  if (method === 'fcntl') {
    const keepSet = new Set(kept);
    for (const name of readdirSync('/proc/self/fd')) {
      const fd = Number(name);
      if (!keepSet.has(fd)) setCloseOnExec(fd, true);
    }
  }
  const inheritable: number[] = [];
  for (const fd of kept) if (setCloseOnExec(fd, false)) inheritable.push(fd);
  return { method, inheritable };
}

/** Set or clear FD_CLOEXEC; false when `fd` is not open. */
function setCloseOnExec(fd: number, on: boolean): boolean {
  const flags = fcntlInt(fd, F_GETFD, 0);
  if (flags === -1) return false; // EBADF: not open (the fd of readdir itself, already closed)
  const wanted = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
  if (wanted !== flags && fcntlInt(fd, F_SETFD, wanted) === -1) {
    throw new FdscanError('EFCNTL', `fcntl(${fd}, F_SETFD): ${osErrorName(errno())}`);
  }
  return true;
}
