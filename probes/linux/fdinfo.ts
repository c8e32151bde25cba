/** Parser of /proc/PID/fdinfo/N text. */
import { ParseError } from '../../src/probe-kit/index.js';

export interface FdInfo {
  pos: number;
  flags: number;
  mntId: number;
  /** Inode of the open file (kernel 5.14+); used to check a row describes one object. */
  ino?: number;
}

/** Parse the first lines of an fdinfo file; throws ParseError when pos or flags are missing. */
export function parseFdInfo(text: string): FdInfo {
  let pos: number | undefined;
  let flags: number | undefined;
  let mntId = -1;
  let ino: number | undefined;
  let start = 0;
  // Only the leading key:value lines matter; kind-specific lines (tfd:, eventfd-count:) follow.
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const colon = text.indexOf(':', start);
    if (colon !== -1 && colon < end) {
      const key = text.slice(start, colon);
      const value = text.slice(colon + 1, end).trim();
      if (key === 'pos') pos = parseDecimal(value, 'pos');
      else if (key === 'flags') flags = parseOctal(value);
      else if (key === 'mnt_id') mntId = parseDecimal(value, 'mnt_id');
      else if (key === 'ino') ino = parseDecimal(value, 'ino');
    }
    if (pos !== undefined && flags !== undefined && ino !== undefined && mntId !== -1) break;
    start = end + 1;
  }
  if (pos === undefined || flags === undefined) {
    throw new ParseError('fdinfo', `missing ${pos === undefined ? 'pos' : 'flags'} in ${JSON.stringify(text.slice(0, 80))}`);
  }
  return { pos, flags, mntId, ino };
}

const KEY_NAMES = [Buffer.from('pos'), Buffer.from('flags'), Buffer.from('mnt_id'), Buffer.from('ino')];

/**
 * parseFdInfo over the first `length` bytes of `bytes`, without making a string of the record
 * (one per descriptor at 10,000 descriptors). Falls back to parseFdInfo on anything it does not
 * expect (and so throws the same ParseError), or on numbers too long to add up exactly.
 */
export function parseFdInfoBytes(bytes: Buffer, length: number): FdInfo {
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
    let digits = 0;
    for (; at < length; at++, digits++) {
      const d = bytes[at]! - 0x30;
      if (d < 0 || d >= base) break;
      value = value * base + d;
    }
    let end = at;
    while (end < length && bytes[end] !== 0x0a) end++;
    if (key !== 0) {
      // Anything else on the line, no digits or more than 15 (not exact in a double): the string way.
      if (digits === 0 || digits > 15 || !blank(bytes, at, end)) return parseFdInfo(bytes.toString('latin1', 0, length));
      if (key === 1) pos = value;
      else if (key === 2) flags = value;
      else if (key === 3) mntId = value;
      else ino = value;
      if (pos !== -1 && flags !== -1 && mntId !== -1 && ino !== -1) break;
    }
    start = end + 1;
  }
  if (pos === -1 || flags === -1) return parseFdInfo(bytes.toString('latin1', 0, length)); // throws
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

function parseDecimal(value: string, key: string): number {
  if (!/^\d+$/.test(value)) throw new ParseError('fdinfo', `${key} is not a number: ${JSON.stringify(value)}`);
  return Number(value);
}

function parseOctal(value: string): number {
  if (!/^[0-7]+$/.test(value)) throw new ParseError('fdinfo', `flags is not octal: ${JSON.stringify(value)}`);
  return Number.parseInt(value, 8);
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
