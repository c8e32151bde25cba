/**
 * Blocking stdio for wrapped commands. Node (libuv) puts a pipe or socket on 0, 1 or 2 into
 * non-blocking mode as soon as process.stdout or .stderr is used. O_NONBLOCK belongs to the open file
 * description, which a child shares: a `cat` writing to such a stdout fails with EAGAIN. While a
 * wrapped command runs, fdscan clears the flag and puts it back afterwards.
 */
import { fcntlInt } from '../probes/linux/libc.js';

const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;

/** Run `body` with O_NONBLOCK cleared on 0, 1 and 2; restore those that had it, even on failure. */
export async function withBlockingStdio<T>(body: () => Promise<T>): Promise<T> {
  if (process.platform !== 'linux') return body();
  const restored: Array<[number, number]> = [];
  for (const fd of [0, 1, 2]) {
    const flags = fcntlInt(fd, F_GETFL, 0);
    if (flags !== -1 && (flags & O_NONBLOCK) !== 0 && fcntlInt(fd, F_SETFL, flags & ~O_NONBLOCK) === 0) restored.push([fd, flags]);
  }
  try {
    return await body();
  } finally {
    for (const [fd, flags] of restored) fcntlInt(fd, F_SETFL, flags);
  }
}
