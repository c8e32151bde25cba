/** Decoding of the octal `flags:` field of /proc/PID/fdinfo/N (x86-64/arm64 generic values). */

/** Close-on-exec: set when the descriptor is NOT passed on through execve. */
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
const O_ACCMODE = 0o3;

// Values from asm-generic/fcntl.h; O_LARGEFILE is 0o100000 on x86-64 and generic ABIs.
const NAMED_FLAGS: ReadonlyArray<readonly [number, string]> = [
  [0o100, 'O_CREAT'],
  [0o200, 'O_EXCL'],
  [0o400, 'O_NOCTTY'],
  [0o1000, 'O_TRUNC'],
  [0o2000, 'O_APPEND'],
  [0o4000, 'O_NONBLOCK'],
  [0o10000, 'O_DSYNC'],
  [0o20000, 'O_ASYNC'],
  [0o40000, 'O_DIRECT'],
  [0o100000, 'O_LARGEFILE'],
  [0o200000, 'O_DIRECTORY'],
  [0o400000, 'O_NOFOLLOW'],
  [0o1000000, 'O_NOATIME'],
  [O_CLOEXEC, 'O_CLOEXEC'],
  [0o4010000, 'O_SYNC'],
  [O_PATH, 'O_PATH'],
  [0o20200000, 'O_TMPFILE'],
];

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
