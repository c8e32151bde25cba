/**
 * Reading a file the user named as input (`--config`, `--baseline`, ./fdscan.config.json): only a
 * regular file, and only up to MAX_INPUT_BYTES. A FIFO nobody writes would block the read forever,
 * /dev/zero never ends, and a huge file would be held whole in memory before JSON.parse refused it.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { UsageError, errnoOf } from '../errors.js';

/** The largest input file fdscan reads: 16 MiB, far beyond any allow list or baseline. */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

// O_NONBLOCK: opening a FIFO that has no writer returns at once instead of waiting for one (the
// descriptor is then refused as not regular); O_NOCTTY: a terminal named by mistake never becomes
// fdscan's controlling terminal. Neither exists on Windows, where an open does not block so.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/** What a file that is not regular is, for the one line that refuses it. */
function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The text of `path` (UTF-8), or a UsageError naming `what` (`--config`, `baseline`) and the
 * reason: not found, not a regular file, larger than MAX_INPUT_BYTES. The checks are made on the
 * opened descriptor, so the file judged is the file read.
 */
export function readInputFile(path: string, what: string): string {
  const refuse = (reason: string): UsageError =>
    new UsageError(`${what} ${path}: ${reason} (fdscan reads regular files of up to ${MAX_INPUT_BYTES / 1024 / 1024} MiB)`);
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    const code = errnoOf(error);
    if (code === undefined) throw error;
    throw new UsageError(`${what} ${path}: cannot read it (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'a directory' : code})`);
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw refuse(kindOf(stats));
    if (stats.size > MAX_INPUT_BYTES) throw refuse(`${(stats.size / 1024 / 1024).toFixed(1)} MiB, too large`);
    // Read to the end, not to the size fstat gave: /proc files say 0, and a file may grow meanwhile.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(stats.size + 1, 64 * 1024), MAX_INPUT_BYTES + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > MAX_INPUT_BYTES) throw refuse('it grew beyond the limit while read');
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (error) {
    const code = errnoOf(error);
    if (error instanceof UsageError || code === undefined) throw error;
    throw new UsageError(`${what} ${path}: cannot read it (${code})`);
  } finally {
    closeSync(fd);
  }
}
