/**
 * The shapes of a descriptor link's text (/proc/PID/fd/N on Linux), told apart in one place for the
 * probes that read links and for what reads their rows' targets (the gate's baseline):
 * `pipe:[N]` and `socket:[N]` with their inode, an anonymous inode (`anon_inode:[eventfd]`,
 * `anon_inode:inotify`, `pidfd:[N]`) with its name, an absolute path, and anything else (nsfs
 * names such as `net:[4026531840]`), which is shown raw, never guessed.
 */

/** What the kernel appends to the name of an unlinked file; a file may also really be called so. */
export const DELETED_SUFFIX = ' (deleted)';

export type LinkShape =
  | { kind: 'pipe' | 'socket'; inode: number }
  /** `name` without its brackets: `eventfd`, `inotify`, `[pidfd]`'s `pidfd`, pidfs's inode number. */
  | { kind: 'anon'; name: string }
  /** `deletedSuffix`: the name ends in " (deleted)", the kernel's mark or part of the name (the caller tells which). */
  | { kind: 'path'; deletedSuffix: boolean }
  | { kind: 'other' };

const PATH: LinkShape = Object.freeze({ kind: 'path', deletedSuffix: false });
const DELETED_PATH: LinkShape = Object.freeze({ kind: 'path', deletedSuffix: true });
const OTHER: LinkShape = Object.freeze({ kind: 'other' });
const SUFFIX_BYTES = Buffer.from(DELETED_SUFFIX, 'latin1');
const PIPE = Buffer.from('pipe:[');
const SOCKET = Buffer.from('socket:[');
const ANON = Buffer.from('anon_inode:');
const PIDFD = Buffer.from('pidfd:');

/**
 * The shape of link text `link` (bytes as readlink gives them, or a row's target). Byte by byte
 * without a string of the whole link: the full read classifies every one of 10,000 descriptors.
 */
export function linkShape(link: Uint8Array | string): LinkShape {
  const bytes = typeof link === 'string' ? Buffer.from(link, 'utf8') : link;
  const first = bytes[0];
  if (first === 0x2f /* / */) return hasDeletedSuffix(bytes) ? DELETED_PATH : PATH;
  if (first === 0x70 /* p */) {
    if (startsWith(bytes, PIPE)) return numbered('pipe', bytes, PIPE.length);
    if (startsWith(bytes, PIDFD)) return anon(bytes, PIDFD.length);
  } else if (first === 0x73 /* s */) {
    if (startsWith(bytes, SOCKET)) return numbered('socket', bytes, SOCKET.length);
  } else if (first === 0x61 /* a */) {
    if (startsWith(bytes, ANON)) return anon(bytes, ANON.length);
  }
  return OTHER;
}

/** Whether `bytes` end in " (deleted)" after at least one byte of name. */
export function hasDeletedSuffix(bytes: Uint8Array): boolean {
  const start = bytes.length - SUFFIX_BYTES.length;
  if (start <= 0) return false;
  for (let i = 0; i < SUFFIX_BYTES.length; i++) if (bytes[start + i] !== SUFFIX_BYTES[i]) return false;
  return true;
}

/** `text` less a trailing " (deleted)". */
export function withoutDeletedSuffix(text: string): string {
  return text.endsWith(DELETED_SUFFIX) ? text.slice(0, -DELETED_SUFFIX.length) : text;
}

function startsWith(bytes: Uint8Array, prefix: Buffer): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** `kind:[DIGITS]` from `at` (just past the `[`); other text under these names is no end of either. */
function numbered(kind: 'pipe' | 'socket', bytes: Uint8Array, at: number): LinkShape {
  const end = bytes.length - 1;
  if (end <= at || end - at > 15 || bytes[end] !== 0x5d /* ] */) return OTHER;
  let inode = 0;
  for (let i = at; i < end; i++) {
    const digit = bytes[i]! - 0x30;
    if (digit < 0 || digit > 9) return OTHER;
    inode = inode * 10 + digit;
  }
  return { kind, inode };
}

/** `anon_inode:NAME` or `anon_inode:[NAME]` (and pidfd's) from `at`. */
function anon(bytes: Uint8Array, at: number): LinkShape {
  let end = bytes.length;
  if (bytes[at] === 0x5b /* [ */) at++;
  if (end > at && bytes[end - 1] === 0x5d /* ] */) end--;
  return { kind: 'anon', name: Buffer.from(bytes.buffer, bytes.byteOffset + at, end - at).toString('utf8') };
}
