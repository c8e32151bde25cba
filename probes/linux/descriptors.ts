/**
 * Reads every descriptor of a Linux process from /proc/PID/fd and /proc/PID/fdinfo.
 *
 * Per descriptor: fdinfo (flags, offset, inode), then the link, then stat of the target when the
 * link is a path. Descriptor numbers are reused at once, so the three reads are checked to describe
 * one object (fdinfo inode = link or stat inode) and retried when they do not. A descriptor that
 * vanishes mid-read is skipped; a process that exits mid-scan makes the audit `incomplete`.
 */
import { isUtf8 } from 'node:buffer';
import { readdirSync, statSync } from 'node:fs';
import {
  DELETED_SUFFIX, FdscanError, NoSuchProcess, errnoOf, linkShape, osFailure, type Descriptor, type DescriptorType,
  type LinkShape, type ListOptions, type ProcessAudit, type TableRead, wantsField,
} from '../../src/probe-kit/index.js';
import { parseEpollWatches, type FdInfo } from './fdinfo.js';
import { deniedDetail } from './access-denied.js';
import { accessMode, decodeOpenFlags, inheritable } from './open-flags.js';
import { descriptorReader, formatDevice, openDescriptorFiles, type DescriptorFiles, type FileIdentity } from './descriptor-files.js';
import { isKernelThread, readArgv, readProcStat, threadGroupOf, type ProcStat } from './process-info.js';
import { SocketResolver, describeSocket } from './sockets.js';
import { PeerIndex, type HeldEnds, type PeerKind } from './peers.js';
import { typeFromMode } from '../file-mode.js';

const ATTEMPTS = 3;

/** Shared state of one audit run: socket tables and peer index are read once for many pids. */
export interface AuditContext {
  sockets: SocketResolver;
  peers?: PeerIndex;
  /**
   * Audits whose peers wait for finishPeers: with many pids, the index is built once every one is
   * read, from their own rows, instead of reading the links of the processes not yet audited.
   */
  awaitingPeers?: ProcessAudit[];
  /** Device of pipefs and sockfs, learnt from the first pipe and socket (one mount each per boot). */
  pseudoDevices?: Map<'pipe' | 'socket', string>;
  /** Process fields read only when asked for (ListOptions.fields): cmdline, and a stat of /proc/PID for the owner. */
  argv?: boolean;
  uid?: boolean;
  /** The rows the audit's filters keep: only those are given peers (absent: every row). */
  shown?: (row: Descriptor) => boolean;
}

export function newAuditContext(options: ListOptions = {}, many = false): AuditContext {
  const peers = options.peers === false ? undefined : new PeerIndex();
  return {
    sockets: new SocketResolver(), peers, awaitingPeers: peers && many ? [] : undefined, argv: wantsField(options, 'argv'), uid: wantsField(options, 'uid'),
    shown: options.shown,
  };
}

/**
 * Add the peers of every audit that waits for them (auditLinuxProcess with a `many` context). A
 * failure of the index is said in each audit's errors: the rows themselves stand.
 */
export function finishPeers(context: AuditContext): void {
  const audits = context.awaitingPeers?.splice(0) ?? [];
  for (const audit of audits) {
    try {
      addPeers(audit, context.peers!, context.shown);
    } catch (error) {
      if (errnoOf(error) === undefined && !(error instanceof FdscanError)) throw error;
      audit.errors.push(`peers: ${(error as Error).message}`);
    }
  }
}

/** Whether the process of /proc/PID `base` runs as fdscan's own effective user (its folder keeps that owner). */
function ownedByCaller(base: string): boolean {
  try {
    return statSync(base).uid === process.geteuid?.();
  } catch {
    return false;
  }
}

/**
 * Audit one process; every OS error leaves as NoSuchProcess, AccessDenied or OsError. A thread id
 * (which /proc answers for, though it lists only processes) is audited as its process, with
 * `thread` set: the threads of a process share its descriptor table.
 */
export function auditLinuxProcess(pid: number, context: AuditContext): ProcessAudit {
  try {
    const group = threadGroupOf(pid);
    if (group !== undefined && group !== pid) return { ...readProcess(group, context), thread: pid };
    return readProcess(pid, context);
  } catch (error) {
    throw osFailure(error, pid, `read /proc/${pid}`, () => {
      try {
        return readProcStat(pid) === undefined;
      } catch {
        return false;
      }
    });
  }
}

function readProcess(pid: number, context: AuditContext): ProcessAudit {
  const before = readProcStat(pid);
  if (!before) throw new NoSuchProcess(pid);
  const base = `/proc/${pid}`;
  if (isKernelThread(pid, before)) {
    const audit: ProcessAudit = { pid, command: before.command, argv: [], ppid: before.ppid, platform: 'linux', kernelThread: true, fds: [], errors: [] };
    try { audit.uid = statSync(base).uid; } catch { /* gone: the audit says what it saw */ }
    return audit;
  }
  // Gone, replaced by another process with the same pid, or past the point of holding a table.
  const gone = (): boolean => {
    const now = readProcStat(pid);
    return !now || now.startTime !== before.startTime || (now.exiting && now.state !== 'Z');
  };
  let files: DescriptorFiles | undefined;
  try {
    files = openDescriptorFiles(pid);
  } catch (error) {
    // A zombie has no table to open: its audit is an empty one, marked zombie. Having no memory
    // map either, its /proc files belong to root (task_dump_owner): to its own user, EACCES
    // (another user's zombie stays unreadable, as the rest of that user's processes are).
    const closed = errnoOf(error) === 'ENOENT' || (errnoOf(error) === 'EACCES' && ownedByCaller(base));
    if (!(before.state === 'Z' && closed && !gone())) {
      throw osFailure(error, pid, `open /proc/${pid}/fd`, gone, deniedDetail(pid));
    }
  }
  const audit: ProcessAudit = {
    pid,
    command: before.command,
    ...(context.argv === false ? {} : { argv: readArgv(pid) }),
    ppid: before.ppid,
    platform: 'linux',
    fds: [],
    errors: [],
  };
  if (context.uid !== false) try { audit.uid = statSync(base).uid; } catch { /* gone: noticed below */ }
  if (before.state === 'Z') audit.zombie = true;

  // Whether every descriptor listed came back as a row (none closed or gone mid-read).
  const count = { listed: 0, vanished: 0 };
  if (files) {
    try {
      audit.fds = readAll(files, context, undefined, count);
    } catch (error) {
      throw osFailure(error, pid, `read /proc/${pid}/fd`, gone, deniedDetail(pid));
    }
  }
  if (context.peers) {
    context.peers.provide(pid, heldEnds(audit));
    if (context.awaitingPeers) context.awaitingPeers.push(audit);
    else addPeers(audit, context.peers, context.shown);
  }

  // No second stat when the table itself proves the process unchanged: the libc reader reads every
  // descriptor through the directory descriptors opened at the start, which name that process, not
  // its number (a pid reused since is another directory; reads through the old one fail with
  // ENOENT). So a non-empty listing whose every descriptor was read is the whole table of the
  // process `before` described (a pid cannot wrap round between that stat and the open), whatever
  // it did afterwards; an empty one may be the dropped table of a process in exit().
  if (count.listed > 0 && count.vanished === 0 && before.state !== 'Z' && !before.exiting && descriptorReader() === 'libc') {
    audit.errors.push(...context.sockets.problems.splice(0));
    return audit;
  }
  const after = readProcStat(pid);
  // An exited process whose parent has not reaped it yet is a zombie with the same start time:
  // its descriptors were closed under the scan all the same. Before it is a zombie, a process in
  // exit() has already dropped its table (PF_EXITING): /proc/PID/fd then lists nothing, no error.
  const exited = !after || after.startTime !== before.startTime || (after.state === 'Z' && before.state !== 'Z')
    || (after.exiting && after.state !== 'Z');
  if (exited) {
    if (audit.fds.length === 0) throw new NoSuchProcess(pid);
    audit.incomplete = true;
    audit.errors.push(`process ${pid} exited while it was read; descriptors may be missing`);
  }
  audit.errors.push(...context.sockets.problems.splice(0));
  return audit;
}

/**
 * Every descriptor of `pid` (or those of `only` still open), for the tracer: exact only while the
 * process is stopped (otherwise each row is still one object). What stops the read is said in
 * `error`, never thrown, except a bug.
 */
export function readDescriptors(pid: number, context: AuditContext, only?: readonly number[]): TableRead {
  try {
    return { rows: readAll(openDescriptorFiles(pid), context, only) };
  } catch (error) {
    return tableReadError(pid, error);
  }
}

/** A table read that `error` stopped, worded for the tracer's report; a bug is thrown. */
export function tableReadError(pid: number, error: unknown): TableRead {
  const code = errnoOf(error);
  if (code === undefined && !(error instanceof FdscanError)) throw error;
  // A traced program that becomes non-dumpable at its exec (mode 711, setuid, setgid, file
  // capabilities) hides its table from everyone but root, its tracer included.
  const why = code === 'EACCES' || code === 'EPERM' ? ' (the program is not dumpable: execute-only, setuid, setgid or with file capabilities; only root can read its table)'
    : code === 'EMFILE' ? " (fdscan's own descriptor limit is reached)" : '';
  return { rows: [], error: `cannot read /proc/${pid}/fd: ${code ?? (error as Error).message}${why}`, errno: code };
}

/**
 * Every descriptor `files` lists (or of `only`); closes `files`. Throws what stops the whole read
 * (EMFILE, EACCES, ...). `count` learns how many were listed and how many closed mid-read.
 */
function readAll(files: DescriptorFiles, context: AuditContext, only?: readonly number[], count?: { listed: number; vanished: number }): Descriptor[] {
  try {
    const fds = only ?? files.list();
    const rows = readRows(files, context, fds);
    if (count) {
      count.listed = fds.length;
      count.vanished = fds.length - rows.length;
    }
    return rows;
  } finally {
    files.close();
  }
}

/** The full rows of descriptors `fds` of `files` (left open), those closed meanwhile left out. Throws as readAll. */
export function readRows(files: DescriptorFiles, context: AuditContext, fds: readonly number[]): Descriptor[] {
  const rows: Descriptor[] = [];
  for (const fd of fds) {
    const row = readDescriptor(files, fd, context);
    if (row) rows.push(row);
  }
  return rows;
}

/** One descriptor, or undefined when it closed while being read. */
function readDescriptor(files: DescriptorFiles, fd: number, context: AuditContext): Descriptor | undefined {
  let lastMismatch = '';
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    // The last attempt trusts a link that names another object: a path over-mounted since the
    // open looks so every time, a race only rarely twice in a row.
    const result = tryReadDescriptor(files, fd, context, attempt < ATTEMPTS - 1);
    if (result === undefined || result.kind === 'row') return result?.row;
    lastMismatch = result.detail;
  }
  return { fd, type: 'UNKNOWN', target: '', error: `descriptor changed while being read (${lastMismatch})` };
}

type Attempt = { kind: 'row'; row: Descriptor } | { kind: 'changed'; detail: string } | undefined;

function tryReadDescriptor(files: DescriptorFiles, fd: number, context: AuditContext, verifyPath: boolean): Attempt {
  let info: FdInfo;
  let linkBytes: Buffer;
  try {
    info = files.fdinfo(fd);
    // A view of a reused buffer: read before the next link of these files is.
    linkBytes = files.linkView(fd);
  } catch (error) {
    return failedRead(fd, error);
  }
  const row: Descriptor = {
    fd,
    type: 'UNKNOWN',
    target: '',
    inheritable: inheritable(info.flags),
    access: accessMode(info.flags),
    flags: flagNames(info.flags),
    offset: info.pos,
  };
  const shape = linkShape(linkBytes);
  if (shape.kind === 'pipe' || shape.kind === 'socket') {
    const { kind, inode } = shape;
    if (info.ino !== undefined && info.ino !== inode) return { kind: 'changed', detail: `fdinfo inode ${info.ino}, link ${kind}:[${inode}]` };
    row.inode = inode;
    row.device = deviceOf(kind, info, files, fd, context);
    if (kind === 'pipe') {
      row.type = 'FIFO';
      row.target = `pipe:[${inode}]`;
    } else {
      row.type = 'SOCK';
      describeSocketRow(row, files.pid, inode, context);
    }
    return { kind: 'row', row };
  }
  if (shape.kind === 'anon') {
    row.type = anonType(shape.name);
    row.target = `[${shape.name}]`;
    if (info.ino !== undefined) row.inode = info.ino;
    if (row.type === 'eventpoll') row.watches = parseEpollWatches(files.fdinfoText());
    return { kind: 'row', row };
  }

  // A path (or nsfs name such as net:[4026531840]). The quick way, one lookup: the name, looked up
  // as the process sees it, is the very object fdinfo described (its inode on its mount), so that
  // lookup's type, device and link count are the object's.
  let stats = namedObject(files, linkBytes, shape, info);
  if (stats === undefined) {
    // The long way: stat follows the magic link to the object, then the name must name it too.
    try {
      stats = files.stat(fd);
    } catch (error) {
      row.error = `stat: ${errnoOf(error) ?? (error as Error).message}`;
    }
    if (stats === undefined && row.error === undefined) return undefined; // closed meanwhile
    if (stats) {
      if (info.ino !== undefined && info.ino !== stats.ino) {
        return { kind: 'changed', detail: `fdinfo inode ${info.ino}, stat inode ${stats.ino}` };
      }
      // fdinfo and stat may both see file X while the link read between them saw Y, when the number
      // was reused twice meanwhile (dup2 in a loop does it): the path must name the object too.
      if (verifyPath && !namesObject(files, linkBytes, shape, stats)) {
        return { kind: 'changed', detail: `link ${JSON.stringify(linkBytes.toString('utf8'))} names another file than inode ${stats.ino}` };
      }
    }
  }
  if (stats) {
    row.type = typeFromMode(stats.mode);
    row.device = stats.dev;
    row.inode = stats.ino;
    if (row.type === 'CHR' || row.type === 'BLK') row.rdev = stats.rdev;
  }
  setLinkTarget(row, linkBytes, shape.kind === 'path' && shape.deletedSuffix && stats !== undefined && isUnlinked(files, linkBytes, stats));
  return { kind: 'row', row };
}

/**
 * lstat of an absolute, unmarked link name under /proc/PID/root, when it is the object fdinfo
 * describes: same inode and same mount id (fdinfo's mnt_id, statx's STATX_MNT_ID). Undefined when
 * that cannot be told (older kernel, name gone, over-mounted or naming another object): then the
 * caller takes the long way.
 */
function namedObject(files: DescriptorFiles, linkBytes: Buffer, shape: LinkShape, info: FdInfo): FileIdentity | undefined {
  if (info.ino === undefined || info.mntId < 0 || shape.kind !== 'path' || shape.deletedSuffix) return undefined;
  try {
    const named = files.lstatInRoot(linkBytes);
    return named !== undefined && named.mntId === info.mntId && named.ino === info.ino ? named : undefined;
  } catch {
    return undefined;
  }
}

// A busy process has thousands of descriptors and a handful of distinct flag sets.
const flagNamesByValue = new Map<number, readonly string[]>();

/** decodeOpenFlags, remembered per value; each row gets its own array. */
function flagNames(flags: number): string[] {
  let names = flagNamesByValue.get(flags);
  if (!names) flagNamesByValue.set(flags, (names = decodeOpenFlags(flags)));
  return names.slice();
}

/**
 * The row's target from a path-like link, `unlinked` telling whether its " (deleted)" suffix is the
 * kernel's mark (then dropped, and the row `deleted`) rather than part of the name; raw bytes
 * alongside a name that is not UTF-8; an unlinked /memfd: name is a memfd. The full read and the
 * tracer's identity read (trace-tables.ts) both set targets here.
 */
export function setLinkTarget(row: Descriptor, linkBytes: Buffer, unlinked: boolean): void {
  let bytes = linkBytes;
  if (unlinked) {
    bytes = bytes.subarray(0, -DELETED_SUFFIX.length);
    row.deleted = true;
  }
  row.target = bytes.toString('utf8');
  if (!isUtf8(bytes)) row.targetBytes = bytes.toString('base64');
  if (row.deleted && row.type === 'REG' && row.target.startsWith('/memfd:')) {
    row.type = 'memfd';
    row.target = row.target.slice(1);
    delete row.deleted; // a memfd never had a name to lose
  }
}

/**
 * Whether a path link names the object `stats` describes. Not checkable (true): links that are not
 * absolute paths (net:[...]), names marked " (deleted)" (isUnlinked checks those), paths this user
 * cannot look up.
 */
function namesObject(files: DescriptorFiles, linkBytes: Buffer, shape: LinkShape, stats: FileIdentity): boolean {
  if (shape.kind !== 'path' || shape.deletedSuffix) return true;
  try {
    const named = files.lstatInRoot(linkBytes);
    return named === undefined || (named.ino === stats.ino && named.dev === stats.dev);
  } catch {
    return true;
  }
}

/**
 * The kernel appends " (deleted)" to the name of an unlinked file, but a file may really be
 * called that. Unlinked = no links left, or the suffixed name is not this file.
 */
function isUnlinked(files: DescriptorFiles, linkBytes: Buffer, stats: FileIdentity): boolean {
  if (stats.nlink === 0) return true;
  try {
    const named = files.lstatInRoot(linkBytes);
    return named === undefined || named.ino !== stats.ino || named.dev !== stats.dev;
  } catch {
    return true;
  }
}

function describeSocketRow(row: Descriptor, pid: number, inode: number, context: AuditContext): void {
  const info = context.sockets.resolve(pid, inode);
  row.socket = info ? { ...info } : { protocol: 'unknown' };
  row.target = describeSocket(row.socket, inode);
}

/** The pipe and inet or unix socket ends among the rows, for the peer index. */
function heldEnds(audit: ProcessAudit): HeldEnds {
  const ends: HeldEnds = { command: audit.command, fds: [], kinds: [], inodes: [] };
  for (const row of audit.fds) {
    const kind = endKind(row);
    if (kind === undefined) continue;
    ends.fds.push(row.fd);
    ends.kinds.push(kind);
    ends.inodes.push(row.inode!);
  }
  return ends;
}

/** What the peer index matches a row on: an anonymous pipe (a named FIFO's target is its path) or a socket. */
function endKind(row: Descriptor): PeerKind | undefined {
  if (row.inode === undefined) return undefined;
  if (row.type === 'FIFO') return row.target.startsWith('pipe:[') ? 'pipe' : undefined;
  return row.type === 'SOCK' ? 'socket' : undefined;
}

/**
 * Other holders of each pipe, inet socket and peer of a connected unix socket, once all rows are
 * read (and provided to the index, which takes this process's links from them instead of reading
 * them all a second time). An inet socket's holders share that very socket (nginx's workers, one
 * listener). Only rows `shown` keeps: the index, a read of every process's links, is built on the
 * first row that shows a peer, and not at all for `-t REG` or an audit without pipes or sockets.
 */
function addPeers(audit: ProcessAudit, peers: PeerIndex, shown?: (row: Descriptor) => boolean): void {
  // One key object for every row (holdersOf only reads it).
  const self = { pid: audit.pid, fd: -1 };
  for (const row of audit.fds) {
    if (row.inode === undefined || (shown && !shown(row))) continue;
    self.fd = row.fd;
    if (endKind(row) === 'pipe') {
      setPeers(row, peers.holdersOf('pipe', row.inode, self));
    } else if (row.type === 'SOCK' && row.socket?.protocol === 'unix') {
      const peerInode = peers.unixPeerOf(audit.pid, row.inode);
      if (peerInode) {
        row.socket.peerInode = peerInode;
        setPeers(row, peers.holdersOf('socket', peerInode, self));
        row.target = describeSocket(row.socket, row.inode);
      }
    } else if (row.type === 'SOCK' && row.socket && row.socket.protocol !== 'unix') {
      setPeers(row, peers.holdersOf('socket', row.inode, self));
    }
  }
}

function setPeers(row: Descriptor, holders: { peers: Descriptor['peers']; count: number }): void {
  row.peers = holders.peers;
  row.peerCount = holders.count;
}

function failedRead(fd: number, error: unknown): Attempt {
  const code = errnoOf(error);
  if (code === 'ENOENT' || code === 'ESRCH') return undefined; // closed meanwhile
  // fdscan out of descriptors or memory: no row can be trusted, the whole read fails.
  if (code === 'EMFILE' || code === 'ENFILE' || code === 'ENOMEM') throw error;
  if (code === undefined && !(error instanceof FdscanError)) throw error; // a bug
  const message = code ?? (error as Error).message;
  return { kind: 'row', row: { fd, type: 'UNKNOWN', target: '', error: message } };
}

/**
 * Pipes and sockets live on internal mounts (pipefs, sockfs); their device comes from a stat of
 * the link. Every pipe shares one device and every socket another, so one stat of each kind per
 * audit is enough: the rest reuse it, saving a statx on most descriptors of busy processes.
 */
function deviceOf(kind: 'pipe' | 'socket', info: FdInfo, files: DescriptorFiles, fd: number, context: AuditContext): string | undefined {
  const known = context.pseudoDevices?.get(kind);
  if (known !== undefined) return known;
  try {
    const stats = files.stat(fd);
    if (stats && stats.ino === info.ino) {
      const device = stats.dev;
      (context.pseudoDevices ??= new Map()).set(kind, device);
      return device;
    }
  } catch { /* closed meanwhile */ }
  return undefined;
}

/**
 * Types this probe names beyond the common ones, for the `-t` filter: anonymous-inode kinds the
 * kernel names that are shown raw (bpf-map, kvm-vm, ...).
 */
export const LINUX_TYPES: readonly string[] = [
  'bpf-map', 'bpf-prog', 'bpf_link', 'bpf_iter', 'btf', 'kvm-vm', 'kvm-vcpu', 'vfio-device', 'sync_file', 'dmabuf',
  'fscontext', 'landlock-ruleset', 'iommufd', 'seccomp notify', 'secretmem',
];

const ANON_KINDS: Record<string, DescriptorType> = {
  eventfd: 'eventfd', eventpoll: 'eventpoll', timerfd: 'timerfd', signalfd: 'signalfd',
  inotify: 'inotify', fanotify: 'fanotify', pidfd: 'pidfd', io_uring: 'io_uring',
  userfaultfd: 'userfaultfd', perf_event: 'perf_event',
};

/** Anonymous-inode kinds by name; unknown ones are shown raw, never guessed. */
export function anonType(name: string): DescriptorType {
  if (ANON_KINDS[name]) return ANON_KINDS[name];
  if (/^\d+$/.test(name)) return 'pidfd'; // pidfs names pidfds by inode on newer kernels
  return name === '' ? 'anon' : name;
}
