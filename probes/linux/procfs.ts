/**
 * Small synchronous readers for /proc. Sync on purpose: at thousands of descriptors, one reused
 * buffer and plain read(2) calls are several times faster than fs.promises per file.
 */
import { closeSync, openSync, readSync, readlinkSync, constants } from 'node:fs';
import { FdscanError, errnoOf } from '../../src/probe-kit/index.js';

let buffer = Buffer.allocUnsafe(64 * 1024);

/** Read a whole /proc file as latin1 text (procfs text is ASCII; paths come from readlink). */
export function readProcText(path: string): string {
  return readWhole(path, false).toString('latin1');
}

/**
 * The bytes of a /proc file the kernel prints as one record (fdinfo), in a buffer the next read
 * of this module reuses: the first read returns the whole record unless it fills the buffer, so a
 * short read is the end and the read(2) that would return 0 is skipped, one syscall per
 * descriptor. Files of many records (net/tcp) may return short reads before their end and must
 * use readProcText.
 */
export function readProcRecordView(path: string): Buffer {
  return readWhole(path, true);
}

function readWhole(path: string, shortReadIsEnd: boolean): Buffer {
  const fd = openSync(path, constants.O_RDONLY) // libuv adds O_CLOEXEC itself;
  try {
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
      const room = buffer.length - length;
      const n = readSync(fd, buffer, length, room, null);
      length += n;
      if (n === 0 || (shortReadIsEnd && n < room)) break;
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * Like readProcText, but undefined when the file cannot be had (the process or descriptor gone, a
 * table this kernel lacks, one this user may not read). fdscan itself out of descriptors or memory
 * is thrown: it says nothing about the file.
 */
export function tryReadProcText(path: string): string | undefined {
  try {
    return readProcText(path);
  } catch (error) {
    const code = errnoOf(error);
    if (code === undefined || code === 'EMFILE' || code === 'ENFILE' || code === 'ENOMEM') throw error;
    return undefined;
  }
}

let procChecked = false;

/**
 * /proc must be of fdscan's own pid namespace: inside `unshare -fp` without a fresh proc mount it
 * still shows the host's pids, so every pid fdscan names or is given would be another process.
 * Checked once: /proc/self names fdscan's own pid only when the namespaces match.
 */
export function assertOwnProc(): void {
  if (procChecked) return;
  let seen: string;
  try {
    seen = readlinkSync('/proc/self');
  } catch (error) {
    throw new FdscanError('ENOPROC', `/proc is not usable here (${errnoOf(error) ?? (error as Error).message}): fdscan reads descriptors from procfs; mount it with 'mount -t proc proc /proc'`);
  }
  if (Number(seen) !== process.pid) {
    throw new FdscanError('EPROCNS', `/proc belongs to another pid namespace (it calls fdscan pid ${seen}, fdscan's own pid is ${process.pid}): its pids are not this namespace's. Mount a /proc of this namespace, e.g. 'unshare --fork --pid --mount-proc', and run fdscan there`);
  }
  procChecked = true;
}
