/**
 * The remedy on Linux: make every descriptor of this process close-on-exec except 0, 1, 2 and the
 * kept ones. close_range(first, last, CLOSE_RANGE_CLOEXEC) over the gaps between kept descriptors
 * (Linux 5.11+); on older kernels (ENOSYS, EINVAL) fcntl(F_SETFD) on each descriptor listed in
 * /proc/self/fd. Kept descriptors and 0, 1, 2 get FD_CLOEXEC cleared (Node sets it on its stdio).
 */
import { OsError, type CloseOnExecResult } from '../../src/probe-kit/index.js';
import { openDescriptorFiles } from './descriptor-files.js';
import { errno } from './libc.js';
import { closeRange, fcntlInt } from './libc-process.js';
import { receivedButMarked } from './received.js';

const CLOSE_RANGE_CLOEXEC = 1 << 2;
const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const LAST_FD = 0xffffffff;

/** Mark every descriptor close-on-exec but 0, 1, 2 and `keep`; `method: 'fcntl'` forces the fallback (tests). */
export function markAllNonInheritable(keep: readonly number[], method: CloseOnExecResult['method'] = 'close_range'): CloseOnExecResult {
  const kept = [...new Set([0, 1, 2, ...keep])].sort((a, b) => a - b);
  // The gaps between kept descriptors: [3, k1-1], [k1+1, k2-1], ..., [kn+1, ~0U].
  let first = 0;
  for (const fd of [...kept, LAST_FD + 1]) {
    if (fd > first && method === 'close_range' && closeRange(first, fd - 1, CLOSE_RANGE_CLOEXEC) !== 0) method = 'fcntl';
    first = fd + 1;
  }
  if (method === 'fcntl') {
    const keepSet = new Set(kept);
    const files = openDescriptorFiles(process.pid, { fdinfo: false });
    try {
      for (const fd of files.list()) if (!keepSet.has(fd)) setCloseOnExec(fd, true);
    } finally {
      files.close();
    }
  }
  const inheritable: number[] = [];
  for (const fd of kept) if (setCloseOnExec(fd, false)) inheritable.push(fd);
  return { method, inheritable };
}

/** Set or clear FD_CLOEXEC; false when `fd` is not open. */
function setCloseOnExec(fd: number, on: boolean): boolean {
  const flags = fcntlInt(fd, F_GETFD, 0);
  if (flags === -1) return false; // EBADF: not open (closed since the listing)
  const wanted = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
  if (wanted !== flags && fcntlInt(fd, F_SETFD, wanted) === -1) throw new OsError(`fcntl(${fd}, F_SETFD)`, errno());
  return true;
}

/** Make inheritable again what this process received at its exec and Node marked close-on-exec (received.ts); returns them. */
export function restoreReceived(): number[] {
  const received = receivedButMarked();
  for (const fd of received) setCloseOnExec(fd, false);
  return received;
}
