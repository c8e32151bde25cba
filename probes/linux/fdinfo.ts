/** Parser of /proc/PID/fdinfo/N text. */
import { ParseError } from '../../src/errors.js';

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
