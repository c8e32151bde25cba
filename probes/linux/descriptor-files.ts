/**
 * fdscan's one reader of a process's descriptor table: the list of /proc/PID/fd, and per
 * descriptor /proc/PID/fd/N and /proc/PID/fdinfo/N. The full read (descriptors.ts), the tracer's
 * table reads (trace-tables.ts), the peer index, counts, the remedy and the received-descriptor
 * check all read through it. Through libc (openat, getdents64, read, readlinkat, statx) relative
 * to directory descriptors of /proc/PID/fd and /proc/PID/fdinfo, with reused buffers: at 10,000
 * descriptors about a third faster than Node's fs, which walks the whole path on every call and
 * allocates per call; where koffi or statx is missing, the same reads go through Node's fs. Paths
 * as the process sees them are looked up relative to a descriptor of /proc/PID/root, opened on
 * first need.
 *
 * Errors are thrown as Node's fs throws them: an Error whose `code` is the errno name (ENOENT when
 * the descriptor closed meanwhile).
 */
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { constants as fsConstants } from 'node:fs';
import { constants } from 'node:os';
import { errnoError } from '../../src/probe-kit/index.js';
import { readProcRecordView } from './procfs.js';
import { parseFdInfo, type FdInfo } from './fdinfo.js';
import { O_CLOEXEC, O_PATH } from './open-flags.js';
import { errno, linuxTypes } from './libc.js';
import { close as closeFd, getdents64, lseek, openAt, readInto, readlinkAt, statx } from './libc-files.js';

/** What fdscan needs of a stat: the object's identity and kind. */
export interface FileIdentity {
  mode: number;
  ino: number;
  nlink: number;
  /** `major:minor` of the file system, and of the device itself for CHR/BLK. */
  dev: string;
  rdev: string;
  /** Mount id (statx STATX_MNT_ID, Linux 5.8+), as fdinfo's `mnt_id` gives it; set by the libc reader's lstatInRoot only. */
  mntId?: number;
}

export interface DescriptorFiles {
  readonly pid: number;
  /**
   * The descriptor numbers, ascending; again from the start on each call. In fdscan's own table,
   * without the reader's own directory descriptors, which are all opened before the listing.
   */
  list(): number[];
  /**
   * The fields of /proc/PID/fdinfo/N, parsed without making a string of the record;
   * fdinfoText() gives its text until the next fdinfo read.
   */
  fdinfo(fd: number): FdInfo;
  fdinfoText(): string;
  /** Bytes of the /proc/PID/fd/N link. */
  link(fd: number): Buffer;
  /** The same bytes in a buffer that the next linkView call reuses: copy what must be kept. */
  linkView(fd: number): Buffer;
  /** stat of what /proc/PID/fd/N refers to (the magic link is followed); undefined: closed meanwhile. */
  stat(fd: number): FileIdentity | undefined;
  /** lstat of `path` as the process sees it (under /proc/PID/root); undefined: no such name. */
  lstatInRoot(path: Buffer): FileIdentity | undefined;
  /** Release the directory descriptors. */
  close(): void;
}

/** How the table is read: `reader` forces one (tests); `fdinfo: false` opens /proc/PID/fdinfo only on a first fdinfo read. */
export interface ReaderOptions {
  reader?: 'libc' | 'node';
  fdinfo?: boolean;
}

const { O_RDONLY, O_DIRECTORY } = fsConstants;
const { ENOENT } = constants.errno;
const SEEK_SET = 0;
const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const STATX_BASIC_STATS = 0x7ff;
const STATX_MNT_ID = 0x1000;
const PATH_MAX = 4096;

let native: boolean | undefined;
let getdentsBound = true;
const dents = Buffer.allocUnsafe(32 * 1024);
const text = Buffer.allocUnsafe(PATH_MAX);
const linkBuffer = Buffer.allocUnsafe(PATH_MAX);
let pathBuffer = Buffer.allocUnsafe(PATH_MAX);
let statBuffer = Buffer.alloc(0);
const DOT = Buffer.from('.\0');

/** Which reader the next openDescriptorFiles gives: libc when koffi and statx work here, else Node's fs. */
export function descriptorReader(): 'libc' | 'node' {
  if (native === undefined) {
    try {
      statBuffer = Buffer.alloc(linuxTypes().statx.size);
      native = statx(AT_FDCWD, '/', 0, STATX_BASIC_STATS, statBuffer) === 0;
    } catch {
      native = false; // koffi not loadable here, or a libc without statx
    }
  }
  return native ? 'libc' : 'node';
}

/** The files of `pid`'s descriptors; throws as opening /proc/PID/fd (and fdinfo, unless `fdinfo: false`) would (ENOENT, EACCES). */
export function openDescriptorFiles(pid: number, options: ReaderOptions = {}): DescriptorFiles {
  return (options.reader ?? descriptorReader()) === 'libc' ? new LibcDescriptorFiles(pid, options.fdinfo ?? true) : new NodeDescriptorFiles(pid);
}

/** The fields of one /proc/PID/fdinfo/N, read by path (one descriptor, not a table). */
export function readFdInfo(pid: number, fd: number): FdInfo {
  return parseFdInfo(readProcRecordView(`${procDir(pid)}/fdinfo/${fd}`));
}

class LibcDescriptorFiles implements DescriptorFiles {
  private readonly base: string;
  private readonly fdDir: number;
  private infoDir = -1;
  private rootDir = -1;
  private listed = false;
  private infoLength = 0;
  private infoText: string | undefined;

  constructor(readonly pid: number, fdinfo: boolean) {
    this.base = procDir(pid);
    this.fdDir = openAt(AT_FDCWD, `${this.base}/fd`, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (this.fdDir < 0) throw errnoError(`open ${this.base}/fd`, errno());
    // In fdscan's own table every directory descriptor of the reader is opened before the listing,
    // which leaves them out: one opened later could take the number of a listed descriptor that
    // has closed since, and be read as it.
    const self = pid === process.pid;
    try {
      if (fdinfo || self) this.openInfo();
      if (self) this.openRoot();
    } catch (error) {
      this.close();
      throw error;
    }
  }

  list(): number[] {
    if (!getdentsBound) return listDescriptorNumbers(this.pid, this.own());
    // getdents64 goes on from where the last listing ended.
    if (this.listed && lseek(this.fdDir, 0, SEEK_SET) < 0) throw errnoError('lseek', errno());
    this.listed = true;
    const fds: number[] = [];
    for (;;) {
      let n: number;
      try {
        n = getdents64(this.fdDir, dents);
      } catch {
        getdentsBound = false; // a C library without the wrapper (glibc before 2.30)
        return listDescriptorNumbers(this.pid, this.own());
      }
      if (n === 0) break;
      if (n < 0) throw errnoError(`getdents64 ${this.base}/fd`, errno());
      // struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16, d_type u8, d_name.
      for (let at = 0; at < n; at += dents.readUInt16LE(at + 16)) {
        let fd = 0;
        let i = at + 19;
        for (; dents[i] !== 0; i++) fd = fd * 10 + dents[i]! - 48;
        if (i > at + 19 && dents[at + 19] !== 0x2e) fds.push(fd); // not . or ..
      }
    }
    const own = this.pid === process.pid ? this.own() : [];
    return (own.length > 0 ? fds.filter((fd) => !own.includes(fd)) : fds).sort((a, b) => a - b);
  }

  fdinfo(fd: number): FdInfo {
    if (this.infoDir < 0) this.openInfo();
    const file = openAt(this.infoDir, this.nameOf(fd), O_RDONLY | O_CLOEXEC);
    if (file < 0) throw errnoError('open fdinfo', errno());
    let n: number;
    try {
      // fdinfo is one record: the first read returns it whole unless it fills the buffer.
      n = readInto(file, text);
      if (n < 0) throw errnoError('read fdinfo', errno());
    } finally {
      closeFd(file);
    }
    if (n === text.length) {
      // A record this long (an epoll watching many descriptors) is read whole by path.
      const whole = readProcRecordView(`${this.base}/fdinfo/${fd}`);
      this.infoText = whole.toString('latin1');
      this.infoLength = -1;
      return parseFdInfo(whole);
    }
    this.infoText = undefined;
    this.infoLength = n;
    return parseFdInfo(text, n);
  }

  fdinfoText(): string {
    return (this.infoText ??= text.toString('latin1', 0, this.infoLength));
  }

  link(fd: number): Buffer {
    const view = this.linkView(fd);
    return view.buffer === linkBuffer.buffer ? Buffer.from(view) : view;
  }

  linkView(fd: number): Buffer {
    const n = readlinkAt(this.fdDir, this.nameOf(fd), linkBuffer);
    if (n < 0) throw errnoError('readlink', errno());
    // A full buffer may be a cut name: Node's readlink sizes its buffer itself.
    if (n === linkBuffer.length) return readlinkSync(`${this.base}/fd/${fd}`, { encoding: 'buffer' });
    return linkBuffer.subarray(0, n);
  }

  stat(fd: number): FileIdentity | undefined {
    return this.statx(this.fdDir, this.nameOf(fd), 0);
  }

  lstatInRoot(path: Buffer): FileIdentity | undefined {
    if (path[0] !== 0x2f) return this.statx(AT_FDCWD, Buffer.concat([Buffer.from(`${this.base}/root/`), path, Buffer.of(0)]), AT_SYMLINK_NOFOLLOW, true);
    // Relative to a descriptor of /proc/PID/root: the same walk as /proc/PID/root/PATH, without
    // looking up /proc, PID and root again for every name. Absolute symlinks met on the way
    // resolve against fdscan's root either way.
    this.openRoot();
    let start = 1;
    while (start < path.length && path[start] === 0x2f) start++;
    if (start === path.length) return this.statx(this.rootDir, DOT, AT_SYMLINK_NOFOLLOW, true);
    const length = path.length - start;
    if (length + 1 > pathBuffer.length) pathBuffer = Buffer.allocUnsafe(length + 1);
    path.copy(pathBuffer, 0, start);
    pathBuffer[length] = 0;
    return this.statx(this.rootDir, pathBuffer, AT_SYMLINK_NOFOLLOW, true);
  }

  close(): void {
    closeFd(this.fdDir);
    if (this.infoDir >= 0) closeFd(this.infoDir);
    if (this.rootDir >= 0) closeFd(this.rootDir);
  }

  /** The reader's own directory descriptors. */
  private own(): number[] {
    return [this.fdDir, this.infoDir, this.rootDir].filter((fd) => fd >= 0);
  }

  private openInfo(): void {
    this.infoDir = openAt(AT_FDCWD, `${this.base}/fdinfo`, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (this.infoDir < 0) throw errnoError(`open ${this.base}/fdinfo`, errno());
  }

  private openRoot(): void {
    if (this.rootDir >= 0) return;
    this.rootDir = openAt(AT_FDCWD, `${this.base}/root`, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (this.rootDir < 0) throw errnoError(`open ${this.base}/root`, errno());
  }

  // The same number is named for fdinfo, link and stat in turn: made a string once.
  private lastFd = -1;
  private lastName = '';

  private nameOf(fd: number): string {
    if (fd !== this.lastFd) {
      this.lastFd = fd;
      this.lastName = String(fd);
    }
    return this.lastName;
  }

  /** `withMount`: add mntId (only lstatInRoot, whose Node twin cannot, needs it). */
  private statx(dir: number, path: string | Buffer, flags: number, withMount = false): FileIdentity | undefined {
    if (statx(dir, path, flags, STATX_BASIC_STATS | STATX_MNT_ID, statBuffer) !== 0) {
      const code = errno();
      if (code === ENOENT) return undefined;
      throw errnoError('statx', code);
    }
    const at = linuxTypes().statx;
    const identity: FileIdentity = {
      mode: statBuffer.readUInt16LE(at.stx_mode),
      ino: Number(statBuffer.readBigUInt64LE(at.stx_ino)),
      nlink: statBuffer.readUInt32LE(at.stx_nlink),
      dev: deviceName(statBuffer.readUInt32LE(at.stx_dev_major), statBuffer.readUInt32LE(at.stx_dev_minor)),
      rdev: deviceName(statBuffer.readUInt32LE(at.stx_rdev_major), statBuffer.readUInt32LE(at.stx_rdev_minor)),
    };
    if (withMount && statBuffer.readUInt32LE(at.stx_mask) & STATX_MNT_ID) identity.mntId = Number(statBuffer.readBigUInt64LE(at.stx_mnt_id));
    return identity;
  }
}

/** The same reads through Node's fs, by full path. */
class NodeDescriptorFiles implements DescriptorFiles {
  private readonly base: string;
  private infoText = '';

  constructor(readonly pid: number) {
    this.base = procDir(pid);
    closeSync(openSync(`${this.base}/fd`, 'r')); // fail as the libc reader would
  }

  list(): number[] {
    return listDescriptorNumbers(this.pid, []);
  }

  fdinfo(fd: number): FdInfo {
    const record = readProcRecordView(`${this.base}/fdinfo/${fd}`);
    this.infoText = record.toString('latin1');
    return parseFdInfo(record);
  }

  fdinfoText(): string {
    return this.infoText;
  }

  link(fd: number): Buffer {
    return readlinkSync(`${this.base}/fd/${fd}`, { encoding: 'buffer' });
  }

  linkView(fd: number): Buffer {
    return this.link(fd);
  }

  stat(fd: number): FileIdentity | undefined {
    return identity(statSync(`${this.base}/fd/${fd}`, { throwIfNoEntry: false }));
  }

  lstatInRoot(path: Buffer): FileIdentity | undefined {
    return identity(lstatSync(Buffer.concat([Buffer.from(`${this.base}/root`), path]), { throwIfNoEntry: false }));
  }

  close(): void {}
}

/**
 * /proc/PID, or /proc/self for fdscan's own: in a pid namespace whose /proc is the host's (the
 * commands refuse to scan there, but the wrapping commands list what they received first), only
 * /proc/self names this process.
 */
function procDir(pid: number): string {
  return pid === process.pid ? '/proc/self' : `/proc/${pid}`;
}

function listDescriptorNumbers(pid: number, own: number[]): number[] {
  const self = pid === process.pid;
  return readdirSync(`${procDir(pid)}/fd`).map(Number).filter((fd) => !self || !own.includes(fd)).sort((a, b) => a - b);
}

function identity(stats: Stats | undefined): FileIdentity | undefined {
  return stats && { mode: stats.mode, ino: stats.ino, nlink: stats.nlink, dev: formatDevice(stats.dev), rdev: formatDevice(stats.rdev) };
}

// A few devices hold the files of thousands of descriptors: their names are made once.
const deviceNames = new Map<number, string>();

/** `major:minor`, from a cache. */
function deviceName(major: number, minor: number): string {
  // Linux's majors have 12 bits: the key is exact far beyond them.
  if (major >= 2 ** 20) return `${major}:${minor}`;
  const key = major * 2 ** 32 + minor;
  let name = deviceNames.get(key);
  if (name === undefined) deviceNames.set(key, (name = `${major}:${minor}`));
  return name;
}

/** Linux dev_t (new encoding) as `major:minor`. */
export function formatDevice(dev: number): string {
  const high = Math.floor(dev / 2 ** 32);
  const low = dev >>> 0;
  const major = ((low >>> 8) & 0xfff) | ((high & 0xfffff000) >>> 0);
  const minor = (low & 0xff) | ((low >>> 12) & 0xfff00) | ((high & 0xfff) << 20);
  return `${major}:${minor}`;
}
