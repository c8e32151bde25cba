/**
 * Decoding of the octal `flags:` field of /proc/PID/fdinfo/N. The kernel that prints it is the one
 * fdscan runs on, so Node's fs.constants (this platform's headers) give most values; the few Node
 * does not export are the architecture's own (asm-generic/fcntl.h, arm64 differs for O_LARGEFILE).
 */
import { constants } from 'node:fs';

const {
  O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC, O_APPEND, O_NONBLOCK, O_DSYNC, O_DIRECT, O_DIRECTORY, O_NOFOLLOW, O_NOATIME, O_SYNC,
} = constants;
/**
 * Close-on-exec: set when the descriptor is NOT passed on through execve. fdscan's one definition
 * (Node's fs.constants lacks it): its own opens, the traced calls' flags and fdinfo's flags.
 */
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
const O_ACCMODE = 0o3;
const O_ASYNC = 0o20000;
const O_LARGEFILE = process.arch === 'arm64' || process.arch === 'arm' ? 0o400000 : 0o100000;
const O_TMPFILE = 0o20000000 | O_DIRECTORY;

const NAMED_FLAGS: ReadonlyArray<readonly [number, string]> = ([
  [O_CREAT, 'O_CREAT'],
  [O_EXCL, 'O_EXCL'],
  [O_NOCTTY, 'O_NOCTTY'],
  [O_TRUNC, 'O_TRUNC'],
  [O_APPEND, 'O_APPEND'],
  [O_NONBLOCK, 'O_NONBLOCK'],
  [O_DSYNC, 'O_DSYNC'],
  [O_ASYNC, 'O_ASYNC'],
  [O_DIRECT, 'O_DIRECT'],
  [O_LARGEFILE, 'O_LARGEFILE'],
  [O_DIRECTORY, 'O_DIRECTORY'],
  [O_NOFOLLOW, 'O_NOFOLLOW'],
  [O_NOATIME, 'O_NOATIME'],
  [O_CLOEXEC, 'O_CLOEXEC'],
  [O_SYNC, 'O_SYNC'],
  [O_PATH, 'O_PATH'],
  [O_TMPFILE, 'O_TMPFILE'],
] as Array<[number, string]>).sort((a, b) => a[0] - b[0]);

/** Whether a descriptor with these fdinfo flags is passed on through execve (no O_CLOEXEC). */
export function inheritable(flags: number): boolean {
  return (flags & O_CLOEXEC) === 0;
}

/** Access mode from fdinfo flags: r, w, rw, or none for O_PATH. */
export function accessMode(flags: number): 'r' | 'w' | 'rw' | 'none' {
  if (flags & O_PATH) return 'none';
  const mode = flags & O_ACCMODE;
  return mode === 0 ? 'r' : mode === 1 ? 'w' : 'rw';
}

/** Names of the flags set, composite ones (O_SYNC, O_TMPFILE) shown instead of their parts. */
export function decodeOpenFlags(flags: number): string[] {
  const names: string[] = [];
  let covered = 0;
  for (let i = NAMED_FLAGS.length - 1; i >= 0; i--) {
    const [bits, name] = NAMED_FLAGS[i]!;
    if ((flags & bits) === bits && (bits & ~covered) !== 0) {
      names.push(name);
      covered |= bits;
    }
  }
  const unknown = flags & ~covered & ~O_ACCMODE;
  if (unknown) names.push(`0o${unknown.toString(8)}`);
  return names.reverse();
}
