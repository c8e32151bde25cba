/**
 * The tables the exec tracer reads of its stopped tracees, each no further than its use needs.
 *
 * - At a fork, only each descriptor's identity: number, type, device and inode, what lineage
 *   matches tables on (objectKey). These rows are never shown: the child's exec and the parent's
 *   next table are read again.
 * - At an exec, in full (descriptors.ts) the descriptors from `identityBelow` on, and below it (0, 1,
 *   2 for the gate) the identity with the link's text as target.
 *
 * Calls, through the one table reader (descriptor-files.ts): the listing of /proc/PID/fd, statx
 * through each /proc/PID/fd/N (the open file itself, never a path looked up again), readlinkat
 * where the mode does not say the type (regular files may be memfds or pidfds, anonymous inodes
 * have no type bits) or a target is wanted.
 * Privileges: those of reading the tracee's /proc/PID/fd, as for the full read; where that fails
 * the full read is made instead, and words the error (not dumpable, out of descriptors).
 * Races: none in a stopped tracee, except its other threads: a descriptor closed between the
 * listing and its statx is skipped, as the full read skips it.
 */
import { errnoOf, linkShape, type Descriptor, type TableRead, type TableReadOptions } from '../../src/probe-kit/index.js';
import { typeFromMode } from '../file-mode.js';
import { anonType, readDescriptors, readRows, setLinkTarget, tableReadError, type AuditContext } from './descriptors.js';
import { openDescriptorFiles, type DescriptorFiles } from './descriptor-files.js';

/** `pid`'s table as `options` asks; a full read (readDescriptors) wherever the fast one cannot go. */
export function readTraceTable(pid: number, context: AuditContext, options: TableReadOptions): TableRead {
  if (options.identityBelow <= 0 || pid === process.pid) return readDescriptors(pid, context);
  let files: DescriptorFiles;
  try {
    // fdinfo only for the full rows, if any.
    files = openDescriptorFiles(pid, { fdinfo: false });
  } catch (error) {
    return tableReadError(pid, error);
  }
  try {
    const rows: Descriptor[] = [];
    const full: number[] = [];
    for (const fd of files.list()) {
      if (fd >= options.identityBelow) {
        full.push(fd);
        continue;
      }
      const row = identityRow(files, fd, options.targets);
      if (row) rows.push(row);
    }
    return { rows: full.length === 0 ? rows : rows.concat(readRows(files, context, full)) };
  } catch (error) {
    return tableReadError(pid, error);
  } finally {
    files.close();
  }
}

/**
 * Type, device and inode of one descriptor, keyed as descriptors.ts keys the full row (objectKey):
 * pipes and sockets by their mode, anonymous inodes by their link's name and inode without a
 * device, memfds as `memfd`. undefined: closed meanwhile.
 */
function identityRow(files: DescriptorFiles, fd: number, targets: boolean): Descriptor | undefined {
  let stats;
  try {
    stats = files.stat(fd);
  } catch (error) {
    const text = readLink(files, fd);
    return text === undefined ? undefined : { fd, type: 'UNKNOWN', target: text.toString('utf8'), error: `stat: ${errnoOf(error) ?? (error as Error).message}` };
  }
  if (stats === undefined) return undefined;
  const type = typeFromMode(stats.mode);
  const row: Descriptor = { fd, type, target: '' };
  if (targets || type === 'REG' || type === 'UNKNOWN') {
    const text = readLink(files, fd);
    if (text === undefined) return undefined;
    const shape = linkShape(text);
    if (shape.kind === 'anon') {
      row.type = anonType(shape.name);
      row.target = `[${shape.name}]`;
      row.inode = stats.ino;
      return row;
    }
    setLinkTarget(row, text, stats.nlink === 0 && shape.kind === 'path' && shape.deletedSuffix);
  }
  row.device = stats.dev;
  row.inode = stats.ino;
  if (type === 'CHR' || type === 'BLK') row.rdev = stats.rdev;
  return row;
}

/** The link's bytes (a copy); undefined: closed meanwhile or unreadable. */
function readLink(files: DescriptorFiles, fd: number): Buffer | undefined {
  try {
    return files.link(fd);
  } catch {
    return undefined;
  }
}
