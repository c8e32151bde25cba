/**
 * Every file fdscan writes (gate -o, --junit, --html, --baseline with --update-baseline, inherit-diff -o,
 * metrics -o) is opened here, under one set of rules, so that a report never damages what was there:
 * - it goes only where the user named: a symlink on the way is followed only when fdscan's own user
 *   or root owns it (as root, a link another user planted in /tmp is refused, whatever
 *   fs.protected_symlinks says), and the last name is opened with O_NOFOLLOW once checked;
 * - what is not a regular file is never replaced: a FIFO, a character device (/dev/null, a
 *   terminal) or a descriptor link such as /dev/stdout is written into as a stream; a directory, a
 *   block device or a socket is refused;
 * - a whole-file replacement (metrics -o, for node_exporter's textfile collector) writes a
 *   temporary file of an unpredictable name, created exclusively beside the target, and renames it
 *   over a regular file or a missing name only.
 * Every refusal is one FdscanError naming the option, the path and the reason (exit 2).
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync, constants, fchmodSync, fstatSync, fsyncSync, ftruncateSync, lstatSync, openSync, readlinkSync, renameSync,
  unlinkSync, writeSync, type Stats,
} from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, isAbsolute, join, sep } from 'node:path';
import { FdscanError, errnoOf } from './errors.js';

/** A report file opened now (before a wrapped command runs), written once later. */
export interface ReportFile {
  /** Write the whole report (replacing a regular file's old content) and close the file. */
  write(text: string): void;
}

/** Why a report cannot be written where asked: one line, exit 2. */
export class ReportFileError extends FdscanError {
  constructor(option: string, path: string, reason: string, options?: { cause?: unknown }) {
    super('EOUTPUT', `cannot write ${option} ${path}: ${reason}`, options);
  }
}

/** Open `path` for a report now; `option` names it in errors (`-o`, `--junit`). */
export function openReportFile(path: string, option: string): ReportFile {
  const opened = attempt(path, option, () => openInPlace(path, option));
  return { write: (text) => attempt(path, option, () => writeAndClose(opened, text)) };
}

/** A report file opened now (before a wrapped command runs), written later in pieces (an HTML page). */
export interface ReportStream {
  /** Start writing (a regular file loses its old content only now); `end` closes the file, even after an error. */
  begin(): { write(chunk: string): void; end(): void };
}

/**
 * Open `path` now, under the same rules as openReportFile, for a report written in pieces: a large
 * page goes out as it is made instead of being held whole in memory first.
 */
export function openReportStream(path: string, option: string): ReportStream {
  const opened = attempt(path, option, () => openInPlace(path, option));
  return {
    begin: () => {
      let position = opened.truncate ? 0 : null;
      attempt(path, option, () => {
        if (opened.truncate) ftruncateSync(opened.fd, 0);
      });
      return {
        write: (chunk) => attempt(path, option, () => {
          const written = writeWhole(opened.fd, chunk, position);
          if (position !== null) position += written;
        }),
        end: () => attempt(path, option, () => closeSync(opened.fd)),
      };
    },
  };
}

/**
 * Write `text` to `path` whole: a regular file or a missing name is replaced in one rename, so a
 * reader sees the old file or the new one, never half; a FIFO, device or descriptor link is
 * written into as a stream.
 */
export function replaceReportFile(path: string, option: string, text: string): void {
  attempt(path, option, () => {
    const target = resolveTarget(path, option);
    if (target.kind === 'stream' || target.kind === 'descriptor') writeAndClose(openInPlace(path, option, target), text);
    else replaceWhole(target.path, target.stats, text);
  });
}

/** Where a path leads once every symlink on the way has been checked. */
type Target =
  | { kind: 'descriptor'; path: string; stats?: undefined }
  | { kind: 'stream'; path: string; stats: Stats }
  | { kind: 'regular'; path: string; stats: Stats }
  | { kind: 'missing'; path: string; stats?: undefined };

// Linux's limit on symlinks followed in one lookup (MAXSYMLINKS).
const MAX_LINKS = 40;

// /proc/PID/fd/N (and /dev/stdout, which leads there): a "magic" link, whose target text (pipe:[123],
// a deleted file) cannot be looked up as a path; only opening it through the kernel reaches the file.
const DESCRIPTOR_LINK = /^\/proc\/[^/]+(\/task\/[^/]+)?\/fd\/\d+$/;

/**
 * Follow `path` one name at a time as the kernel would, refusing a symlink fdscan's user or root
 * does not own (another user may have planted it in a shared folder), and say what is at its end.
 */
function resolveTarget(path: string, option: string): Target {
  if (sep !== '/') return lookedUp(path, option);
  const euid = process.geteuid?.();
  const pending = split(isAbsolute(path) ? path : join(process.cwd(), path));
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '..') {
      done.pop();
      continue;
    }
    const here = `/${[...done, name].join('/')}`;
    let stats: Stats;
    try {
      stats = lstatSync(here);
    } catch (error) {
      if (errnoOf(error) === 'ENOENT' && pending.length === 0) return { kind: 'missing', path: here };
      throw error;
    }
    if (stats.isSymbolicLink()) {
      if (euid !== undefined && stats.uid !== euid && stats.uid !== 0) {
        throw new ReportFileError(option, path, `${here} is a symlink owned by uid ${stats.uid}: fdscan follows only its own user's or root's links`);
      }
      if (++links > MAX_LINKS) throw new ReportFileError(option, path, 'ELOOP (too many symlinks)');
      if (pending.length === 0 && DESCRIPTOR_LINK.test(here)) return { kind: 'descriptor', path: here };
      const target = readlinkSync(here);
      if (isAbsolute(target)) done.length = 0;
      pending.unshift(...split(target));
      continue;
    }
    done.push(name);
    if (pending.length === 0) return classify(option, path, here, stats);
  }
  // The path ended at `/` or in `..`: a folder.
  throw new ReportFileError(option, path, 'a directory');
}

/** Windows: no symlink owners to check (only administrators may create links there). */
function lookedUp(path: string, option: string): Target {
  try {
    return classify(option, path, path, lstatSync(path));
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return { kind: 'missing', path };
    throw error;
  }
}

function split(path: string): string[] {
  return path.split('/').filter((name) => name !== '' && name !== '.');
}

function classify(option: string, path: string, here: string, stats: Stats): Target {
  if (stats.isFile()) return { kind: 'regular', path: here, stats };
  if (stats.isFIFO() || stats.isCharacterDevice()) return { kind: 'stream', path: here, stats };
  const what = stats.isDirectory() ? 'a directory' : stats.isBlockDevice() ? 'a block device' : stats.isSocket() ? 'a socket' : 'not a regular file';
  throw new ReportFileError(option, path, what);
}

interface Opened {
  fd: number;
  /** A regular file written from its start (truncated when written); else a stream. */
  truncate: boolean;
}

// O_NOFOLLOW where the platform has it; O_NOCTTY so that a terminal named as the report never
// becomes fdscan's controlling terminal.
const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const NOCTTY = constants.O_NOCTTY ?? 0;
// S_ISVTX: in a folder with it set (/tmp), only a file's owner may remove or rename it.
const STICKY = 0o1000;

/**
 * Open the report in place: an existing regular file without truncating it yet, a missing one
 * created exclusively, a stream as it is. Retried when the name changed between look and open.
 */
function openInPlace(path: string, option: string, resolved?: Target): Opened {
  for (let tries = 0; tries < 3; tries++) {
    const target = resolved ?? resolveTarget(path, option);
    resolved = undefined;
    if (target.kind === 'descriptor') {
      // A descriptor link: appended to, as a shell's `>>`: fdscan must not cut what CMD wrote to
      // the same stdout before the report (`gate -o /dev/stdout -- make > log`).
      return { fd: openSync(target.path, constants.O_WRONLY | constants.O_APPEND | NOCTTY), truncate: false };
    }
    if (target.kind === 'regular') refuseShared(option, path, target.path, target.stats);
    const flags = constants.O_WRONLY | NOFOLLOW | NOCTTY | (target.kind === 'missing' ? constants.O_CREAT | constants.O_EXCL : 0);
    let fd: number;
    try {
      // A FIFO without a reader blocks here, as a shell's `> fifo` does, until one opens it.
      fd = openSync(target.path, flags, 0o666);
    } catch (error) {
      const code = errnoOf(error);
      // Created, or replaced by a link, since it was looked at: look again.
      if (code === 'EEXIST' || code === 'ELOOP') continue;
      throw error;
    }
    const opened = fstatSync(fd);
    if (target.stats === undefined || (opened.dev === target.stats.dev && opened.ino === target.stats.ino)) {
      return { fd, truncate: opened.isFile() };
    }
    closeSync(fd);
  }
  throw new ReportFileError(option, path, 'it keeps changing while fdscan opens it');
}

/**
 * In a folder other users may write into, writing into an existing file in place is refused when
 * another user owns it (the rule of fs.protected_regular) or it has more than one link (another
 * user may have hard-linked a file of fdscan's user there): the report would change that file.
 */
function refuseShared(option: string, path: string, file: string, stats: Stats): void {
  const euid = process.geteuid?.();
  if (euid === undefined) return;
  const folder = lstatSync(dirname(file));
  const shared = (folder.mode & 0o022) !== 0 || folder.uid !== euid;
  if (shared && (folder.mode & STICKY) !== 0 && stats.uid !== euid) {
    throw new ReportFileError(option, path, `owned by uid ${stats.uid} in a sticky folder: another user's file is not written into`);
  }
  if (shared && stats.nlink > 1) {
    throw new ReportFileError(option, path, `it has ${stats.nlink} hard links in a folder other users may write: the report would change them all`);
  }
}

/**
 * Replace a regular file (or a missing name) whole: a temporary file of an unpredictable name,
 * created exclusively in the target's folder (nobody can plant it first: a name already taken is
 * skipped, never removed or followed), written, flushed, given the old file's permissions when it
 * was fdscan's user's, renamed.
 * The name starts with a dot and ends in `.tmp`, so a textfile collector never reads it.
 */
function replaceWhole(path: string, old: Stats | undefined, text: string): void {
  const folder = dirname(path);
  let temporary: string | undefined;
  let fd: number | undefined;
  for (let tries = 0; fd === undefined; tries++) {
    // Cut so that a name near NAME_MAX (255) still leaves room for the random part.
    temporary = join(folder, `.${basename(path).slice(0, 200)}.${randomBytes(8).toString('hex')}.tmp`);
    try {
      fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, 0o666);
    } catch (error) {
      if (errnoOf(error) !== 'EEXIST' || tries >= 8) throw error;
    }
  }
  try {
    writeWhole(fd!, text, null);
    // Another user's permissions (a world-writable file planted in /tmp) are not taken over.
    if (old && old.uid === (process.geteuid?.() ?? old.uid)) fchmodSync(fd!, old.mode & 0o777);
    fsyncSync(fd!);
    closeSync(fd!);
    fd = undefined;
    renameSync(temporary!, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(temporary!);
    } catch {
      // Already gone: nothing to clean.
    }
    throw error;
  }
}

/** Write the report into what openInPlace opened, then close it. */
function writeAndClose(opened: Opened, text: string): void {
  try {
    // A regular file loses its old report only now, when the new one is ready.
    if (opened.truncate) ftruncateSync(opened.fd, 0);
    writeWhole(opened.fd, text, opened.truncate ? 0 : null);
  } finally {
    closeSync(opened.fd);
  }
}

/** All of `text` (its length in bytes returned): a pipe or terminal may take it in parts. `position` 0 writes from the start. */
function writeWhole(fd: number, text: string, position: number | null): number {
  const bytes = Buffer.from(text);
  let offset = 0;
  while (offset < bytes.length) {
    offset += writeSync(fd, bytes, offset, bytes.length - offset, position === null ? null : position + offset);
  }
  return bytes.length;
}

// node:util through require: see src/errors.ts (an ES import of it opens stderr early).
const util = (): typeof import('node:util') => createRequire(import.meta.url)('node:util') as typeof import('node:util');

/** Run `body`; a system error becomes one line naming the option, the path and the errno. */
function attempt<T>(path: string, option: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    const code = errnoOf(error);
    if (code === undefined) throw error;
    const errno = (error as { errno?: number }).errno;
    const described = errno === undefined ? undefined : util().getSystemErrorMap().get(errno)?.[1];
    const hint = code === 'EACCES' || code === 'EROFS' || code === 'EPERM' ? ' (the file, or for a new file its folder, must be writable)' : '';
    throw new ReportFileError(option, path, `${code}${described ? ` (${described})` : ''}${hint}`, { cause: error });
  }
}
