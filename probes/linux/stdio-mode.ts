/**
 * Blocking stdio for wrapped commands. Node (libuv) puts a pipe or socket on 0, 1 or 2 into
 * non-blocking mode as soon as process.stdout or .stderr is used. O_NONBLOCK belongs to the open file
 * description, which a child shares: a `cat` writing to such a stdout fails with EAGAIN.
 */
import { constants } from 'node:fs';
import { fcntlInt } from './libc-process.js';

const F_GETFL = 3;
const F_SETFL = 4;

/** Clear O_NONBLOCK on 0, 1 and 2 where it is set; returns the function that sets it again on those. */
export function blockingStdio(): () => void {
  const restored: Array<[number, number]> = [];
  for (const fd of [0, 1, 2]) {
    const flags = fcntlInt(fd, F_GETFL, 0);
    if (flags !== -1 && (flags & constants.O_NONBLOCK) !== 0 && fcntlInt(fd, F_SETFL, flags & ~constants.O_NONBLOCK) === 0) restored.push([fd, flags]);
  }
  return () => {
    for (const [fd, flags] of restored) fcntlInt(fd, F_SETFL, flags);
  };
}
