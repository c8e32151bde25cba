/**
 * libc calls of the /proc reader (descriptor-files.ts) and of the sock_diag query (unix-diag.ts):
 * files relative to directory descriptors, and a netlink socket.
 */
import { libcFunction as fn } from './libc.js';

export const openAt = (dirFd: number, path: string, flags: number): number =>
  fn('int openat(int dirfd, const char *path, int flags)')(dirFd, path, flags);
export const readInto = (fd: number, into: Buffer): number =>
  fn('ssize_t read(int fd, _Out_ void *buf, size_t count)')(fd, into, into.length);
export const readlinkAt = (dirFd: number, path: string, into: Buffer): number =>
  fn('ssize_t readlinkat(int dirfd, const char *path, _Out_ void *buf, size_t size)')(dirFd, path, into, into.length);
/** statx(2) into `into` (struct statx); `path` a string, or NUL-terminated bytes. */
export function statx(dirFd: number, path: string | Buffer, flags: number, mask: number, into: Buffer): number {
  return typeof path === 'string'
    ? fn('int statx(int dirfd, const char *path, int flags, unsigned int mask, _Out_ void *statxbuf)')(dirFd, path, flags, mask, into)
    : fn('int statx(int dirfd, const void *path, int flags, unsigned int mask, _Out_ void *statxbuf)')(dirFd, path, flags, mask, into);
}
/** lseek(2); the offset fits a double for every use here (0, the start of a directory). */
export const lseek = (fd: number, offset: number, whence: number): number =>
  Number(fn('int64_t lseek(int fd, int64_t offset, int whence)')(fd, offset, whence));
export const close = (fd: number): number => fn('int close(int fd)')(fd);
/** getdents64(2) into `into` (struct linux_dirent64 records); glibc 2.30 and later have the wrapper. */
export const getdents64 = (fd: number, into: Buffer): number =>
  fn('ssize_t getdents64(int fd, _Out_ void *buf, size_t count)')(fd, into, into.length);

export const socket = (domain: number, type: number, protocol: number): number =>
  fn('int socket(int domain, int type, int protocol)')(domain, type, protocol);
export const send = (fd: number, data: Buffer, flags: number): number =>
  fn('ssize_t send(int fd, const void *buf, size_t len, int flags)')(fd, data, data.length, flags);
export const recv = (fd: number, into: Buffer, flags: number): number =>
  fn('ssize_t recv(int fd, _Out_ void *buf, size_t len, int flags)')(fd, into, into.length, flags);
