/**
 * The tables the exec tracer reads of its stopped tracees, each no further than its use needs.
 *
 * - At a fork, only each descriptor's identity: number, type, device and inode, what lineage
 *   matches tables on (objectKey). These rows are never shown: the child's exec and the parent's
 *   next table are read again.
 * - At an exec, in full (descriptors.ts) the descriptors from `identityBelow` on, and below it (0, 1,
 *   2 for the gate) the identity with the link's text as target.
 *
 * Calls: openat + getdents64 of /proc/PID/fd, statx through each /proc/PID/fd/N (the open file
 * itself, never a path looked up again), readlinkat where the mode does not say the type (regular
 * files may be memfds or pidfds, anonymous inodes have no type bits) or a target is wanted.
 * Privileges: those of reading the tracee's /proc/PID/fd, as for the full read; where that fails
 * the full read is made instead, and words the error (not dumpable, out of descriptors).
 * Races: none in a stopped tracee, except its other threads: a descriptor closed between the
 * listing and its statx is skipped, as the full read skips it.
 */
import { readdirSync } from 'node:fs';
import { constants } from 'node:os';
import { osErrorName, type Descriptor, type TableRead, type TableReadOptions } from '../../src/probe-kit/index.js';
import { typeFromMode } from '../file-mode.js';
import { anonType, hasDeletedSuffix, readDescriptors, setLinkTarget, type AuditContext } from './descriptors.js';
import { descriptorReader } from './descriptor-files.js';
import { errno, linuxTypes } from './libc.js';
import { close, getdents64, openAt, readlinkAt, statx } from './libc-files.js';

const AT_FDCWD = -100;
/** O_RDONLY | O_DIRECTORY | O_CLOEXEC (asm-generic/fcntl.h). */
const DIRECTORY_FLAGS = 0o200000 | 0o2000000;
/** STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_INO: device numbers come with every statx. */
const STATX_IDENTITY = 0x1 | 0x2 | 0x4 | 0x100;
const { ENOENT } = constants.errno;

const dents = Buffer.allocUnsafe(32 * 1024);
const link = Buffer.allocUnsafe(4096);
let statBuffer: Buffer | undefined;
let getdentsBound = true;

/** `pid`'s table as `options` asks; a full read (readDescriptors) wherever the fast one cannot go. */
export function readTraceTable(pid: number, context: AuditContext, options: TableReadOptions): TableRead {
  if (options.identityBelow <= 0 || pid === process.pid || descriptorReader() !== 'libc') return readDescriptors(pid, context);
  const dir = openAt(AT_FDCWD, `/proc/${pid}/fd`, DIRECTORY_FLAGS);
  if (dir < 0) return readDescriptors(pid, context);
  const rows: Descriptor[] = [];
  const full: number[] = [];
  try {
    for (const fd of listNumbers(dir, pid)) {
      if (fd >= options.identityBelow) {
        full.push(fd);
        continue;
      }
      const row = identityRow(dir, fd, options.targets);
      if (row) rows.push(row);
    }
  } finally {
    close(dir);
  }
  if (full.length === 0) return { rows };
  const detailed = readDescriptors(pid, context, full);
  return detailed.error ? detailed : { rows: rows.concat(detailed.rows) };
}

/** The descriptor numbers in the directory `dir` (/proc/PID/fd), ascending. */
function listNumbers(dir: number, pid: number): number[] {
  if (!getdentsBound) return readdirSync(`/proc/${pid}/fd`).map(Number).sort((a, b) => a - b);
  const fds: number[] = [];
  for (;;) {
    let n: number;
    try {
      n = getdents64(dir, dents);
    } catch {
      getdentsBound = false; // a C library without the wrapper (glibc before 2.30)
      return listNumbers(dir, pid);
    }
    if (n === 0) break;
    if (n < 0) return readdirSync(`/proc/${pid}/fd`).map(Number).sort((a, b) => a - b); // throws what stopped it
    // struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16, d_type u8, d_name.
    for (let at = 0; at < n; at += dents.readUInt16LE(at + 16)) {
      let fd = 0;
      let i = at + 19;
      for (; dents[i] !== 0; i++) fd = fd * 10 + dents[i]! - 48;
      if (i > at + 19 && dents[at + 19] !== 0x2e) fds.push(fd); // not . or ..
    }
  }
  return fds.sort((a, b) => a - b);
}

/**
 * Type, device and inode of one descriptor, keyed as descriptors.ts keys the full row (objectKey):
 * pipes and sockets by their mode, anonymous inodes by their link's name and inode without a
 * device, memfds as `memfd`. undefined: closed meanwhile.
 */
function identityRow(dir: number, fd: number, targets: boolean): Descriptor | undefined {
  const name = String(fd);
  const at = linuxTypes().statx;
  const buffer = (statBuffer ??= Buffer.alloc(at.size));
  if (statx(dir, name, 0, STATX_IDENTITY, buffer) !== 0) {
    const code = errno();
    if (code === ENOENT) return undefined;
    const text = readLink(dir, name);
    return text === undefined ? undefined : { fd, type: 'UNKNOWN', target: text.toString('utf8'), error: `stat: ${osErrorName(code)}` };
  }
  const mode = buffer.readUInt16LE(at.stx_mode);
  const inode = Number(buffer.readBigUInt64LE(at.stx_ino));
  const type = typeFromMode(mode);
  const row: Descriptor = { fd, type, target: '' };
  if (targets || type === 'REG' || type === 'UNKNOWN') {
    const text = readLink(dir, name);
    if (text === undefined) return undefined;
    const special = /^(anon_inode|pidfd):\[?(.*?)\]?$/.exec(text.toString('latin1'));
    if (special) {
      row.type = anonType(special[2]!);
      row.target = `[${special[2]!}]`;
      row.inode = inode;
      return row;
    }
    setLinkTarget(row, text, buffer.readUInt32LE(at.stx_nlink) === 0 && text[0] === 0x2f && hasDeletedSuffix(text));
  }
  row.device = `${buffer.readUInt32LE(at.stx_dev_major)}:${buffer.readUInt32LE(at.stx_dev_minor)}`;
  row.inode = inode;
  if (type === 'CHR' || type === 'BLK') row.rdev = `${buffer.readUInt32LE(at.stx_rdev_major)}:${buffer.readUInt32LE(at.stx_rdev_minor)}`;
  return row;
}

/** The link's bytes (a copy); undefined: closed meanwhile or unreadable. */
function readLink(dir: number, name: string): Buffer | undefined {
  const n = readlinkAt(dir, name, link);
  return n < 0 ? undefined : Buffer.from(link.subarray(0, n));
}
