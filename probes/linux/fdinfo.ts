/** Parser of /proc/PID/fdinfo/N text. */
import { ParseError } from '../../src/probe-kit/index.js';

export interface FdInfo {
  pos: number;
  flags: number;
  mntId: number;
  /** Inode of the open file (kernel 5.14+); used to check a row describes one object. */
  ino?: number;
}

const KEY_NAMES = [Buffer.from('pos'), Buffer.from('flags'), Buffer.from('mnt_id'), Buffer.from('ino')];

/**
 * The leading key:value lines of the first `length` bytes of an fdinfo record (`bytes` may be a
 * reused buffer holding an older record after them), without making a string of the record: one
 * per descriptor at 10,000 descriptors. Kind-specific lines (tfd:, eventfd-count:) follow and are
 * passed over. Throws ParseError when pos or flags are missing or a value is not a number.
 */
export function parseFdInfo(bytes: Buffer, length = bytes.length): FdInfo {
  let pos = -1;
  let flags = -1;
  let mntId = -1;
  let ino = -1;
  let start = 0;
  while (start < length) {
    let colon = start;
    while (colon < length && bytes[colon] !== 0x3a && bytes[colon] !== 0x0a) colon++;
    if (colon === length || bytes[colon] === 0x0a) {
      start = colon + 1; // a line without a colon
      continue;
    }
    const key = keyOf(bytes, start, colon);
    let at = colon + 1;
    while (at < length && (bytes[at] === 0x09 || bytes[at] === 0x20)) at++;
    const base = key === 2 ? 8 : 10;
    let value = 0;
    const first = at;
    for (; at < length; at++) {
      const d = bytes[at]! - 0x30;
      if (d < 0 || d >= base) break;
      value = value * base + d;
    }
    let end = at;
    while (end < length && bytes[end] !== 0x0a) end++;
    if (key !== 0) {
      if (at === first || !blank(bytes, at, end)) {
        const text = JSON.stringify(bytes.toString('latin1', first, end).trim());
        throw new ParseError('fdinfo', key === 2 ? `flags is not octal: ${text}` : `${KEY_NAMES[key - 1]!.toString()} is not a number: ${text}`);
      }
      // More than 15 digits may not add up exactly in a double: the number's text decides, as Number() rounds it.
      if (at - first > 15) value = key === 2 ? Number.parseInt(bytes.toString('latin1', first, at), 8) : Number(bytes.toString('latin1', first, at));
      if (key === 1) pos = value;
      else if (key === 2) flags = value;
      else if (key === 3) mntId = value;
      else ino = value;
      if (pos !== -1 && flags !== -1 && mntId !== -1 && ino !== -1) break;
    }
    start = end + 1;
  }
  if (pos === -1 || flags === -1) {
    throw new ParseError('fdinfo', `missing ${pos === -1 ? 'pos' : 'flags'} in ${JSON.stringify(bytes.toString('latin1', 0, Math.min(length, 80)))}`);
  }
  const info: FdInfo = { pos, flags, mntId, ino: undefined };
  if (ino !== -1) info.ino = ino;
  return info;
}

/** 1-4 for pos, flags, mnt_id, ino; 0 for any other key. */
function keyOf(bytes: Buffer, start: number, end: number): number {
  for (let k = 0; k < KEY_NAMES.length; k++) {
    const name = KEY_NAMES[k]!;
    if (name.length === end - start && bytes.compare(name, 0, name.length, start, end) === 0) return k + 1;
  }
  return 0;
}

function blank(bytes: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== 0x20 && bytes[i] !== 0x09 && bytes[i] !== 0x0d) return false;
  return true;
}

/**
 * The descriptor numbers an epoll instance watches, from its fdinfo's `tfd:` lines, in the
 * kernel's order (a number may repeat when two open files were added under one number).
 */
export function parseEpollWatches(text: string): number[] {
  const watches: number[] = [];
  for (const match of text.matchAll(/^tfd:\s*(\d+)/gm)) watches.push(Number(match[1]));
  return watches;
}
