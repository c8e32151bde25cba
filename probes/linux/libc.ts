/**
 * glibc/musl functions fdscan calls on Linux, declared through koffi with every argument and
 * return type explicit. Bound lazily: importing this module loads nothing until a call is made,
 * and an audit that /proc can answer alone never loads koffi.
 */
import { createRequire } from 'node:module';
import type * as Koffi from 'koffi';

const require = createRequire(import.meta.url);

/** The koffi module, loaded on first use (koffi's native binary costs start-up time). */
export function koffi(): typeof Koffi {
  return require('koffi') as typeof Koffi;
}

// Function pointers are created once, on first call of each.
type Bound = (...args: unknown[]) => number;
let libc: Koffi.LibraryHandle | undefined;
const bound = new Map<string, Bound>();

function fn(prototype: string): Bound {
  let f = bound.get(prototype);
  if (!f) {
    const k = koffi();
    if (!libc) {
      // Type aliases used by the prototypes below, declared once.
      k.alias('pid_t', 'int32_t');
      k.alias('ssize_t', 'intptr_t');
      libc = k.load('libc.so.6');
    }
    f = libc.func(prototype) as Bound;
    bound.set(prototype, f);
  }
  return f;
}

/** errno of the last failed call, read right after it. */
export function errno(): number {
  return koffi().errno();
}

export const socket = (domain: number, type: number, protocol: number): number =>
  fn('int socket(int domain, int type, int protocol)')(domain, type, protocol);
export const send = (fd: number, data: Buffer, flags: number): number =>
  fn('ssize_t send(int fd, const void *buf, size_t len, int flags)')(fd, data, data.length, flags);
export const recv = (fd: number, into: Buffer, flags: number): number =>
  fn('ssize_t recv(int fd, _Out_ void *buf, size_t len, int flags)')(fd, into, into.length, flags);
export const close = (fd: number): number => fn('int close(int fd)')(fd);
