/**
 * `fdscan metrics -o FILE`: the file is written whole under a temporary name in the same folder,
 * flushed to disk, then renamed over FILE, so a reader (node_exporter's textfile collector) sees
 * the old file or the new one, never half of one. The temporary name starts with a dot and does
 * not end in `.prom`, so the collector never reads it.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FdscanError, errnoOf } from '../errors.js';

/** Replace `path` with `text` in one rename; a one-line FdscanError when the folder refuses. */
export function replaceFile(path: string, text: string): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    // Left behind by a killed run of a process with this pid: 'wx' never follows a link planted there.
    rmSync(temporary, { force: true });
    fd = openSync(temporary, 'wx', 0o644);
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temporary, { force: true });
    const code = errnoOf(error);
    if (code === undefined) throw error;
    throw new FdscanError('EOUTPUT', `cannot write ${path}: ${code}${code === 'EACCES' || code === 'EROFS' ? ' (the folder must be writable: the file is written beside it, then renamed)' : ''}`, { cause: error });
  }
}
