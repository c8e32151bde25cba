/**
 * glibc/musl functions fdscan calls on Linux, declared through koffi with every argument and
 * return type explicit. Bound lazily: importing this module loads nothing until a call is made,
 * and an audit that /proc can answer alone never loads koffi.
 */
import { koffi, lazyLibrary } from '../native-library.js';

export { koffi };

const fn = lazyLibrary<number>((k) => k.load('libc.so.6'), () => {
  const k = koffi();
  // Type aliases used by the prototypes below, declared once.
  k.alias('pid_t', 'int32_t');
  k.alias('ssize_t', 'intptr_t');
  // posix_spawn_file_actions_t and posix_spawnattr_t are opaque to fdscan: passed as
  // pointers to buffers of SPAWN_STRUCT_BYTES (larger than glibc's 80 and 336 bytes).
  k.alias('spawn_actions_ptr', 'void *');
  k.alias('spawn_attr_ptr', 'void *');
});

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

// ---- Files relative to a directory descriptor: the /proc reader (descriptor-files.ts). ----

export const openAt = (dirFd: number, path: string, flags: number): number =>
  fn('int openat(int dirfd, const char *path, int flags)')(dirFd, path, flags);
export const readInto = (fd: number, into: Buffer): number =>
  fn('ssize_t read(int fd, _Out_ void *buf, size_t count)')(fd, into, into.length);
export const readlinkAt = (dirFd: number, path: string, into: Buffer): number =>
  fn('ssize_t readlinkat(int dirfd, const char *path, _Out_ void *buf, size_t size)')(dirFd, path, into, into.length);
/** statx(2) into `into` (256 bytes, struct statx); `path` a string, or NUL-terminated bytes. */
export function statx(dirFd: number, path: string | Buffer, flags: number, mask: number, into: Buffer): number {
  return typeof path === 'string'
    ? fn('int statx(int dirfd, const char *path, int flags, unsigned int mask, _Out_ void *statxbuf)')(dirFd, path, flags, mask, into)
    : fn('int statx(int dirfd, const void *path, int flags, unsigned int mask, _Out_ void *statxbuf)')(dirFd, path, flags, mask, into);
}

// ---- Process control: the tracer (src/trace/), `run --close-fds` and `inherit-diff PID PID`. ----

/** Room for glibc's posix_spawn_file_actions_t (80 bytes) or posix_spawnattr_t (336 bytes, x86_64/arm64). */
export const SPAWN_STRUCT_BYTES = 512;

export const posixSpawnFileActionsInit = (actions: Buffer): number =>
  fn('int posix_spawn_file_actions_init(spawn_actions_ptr actions)')(actions);
export const posixSpawnFileActionsAddDup2 = (actions: Buffer, fd: number, newFd: number): number =>
  fn('int posix_spawn_file_actions_adddup2(spawn_actions_ptr actions, int fd, int newfd)')(actions, fd, newFd);
export const posixSpawnFileActionsDestroy = (actions: Buffer): number =>
  fn('int posix_spawn_file_actions_destroy(spawn_actions_ptr actions)')(actions);
export const posixSpawnattrInit = (attr: Buffer): number => fn('int posix_spawnattr_init(spawn_attr_ptr attr)')(attr);
export const posixSpawnattrSetflags = (attr: Buffer, flags: number): number =>
  fn('int posix_spawnattr_setflags(spawn_attr_ptr attr, short flags)')(attr, flags);
export const posixSpawnattrSetsigdefault = (attr: Buffer, set: Buffer): number =>
  fn('int posix_spawnattr_setsigdefault(spawn_attr_ptr attr, const void *sigset)')(attr, set);
export const posixSpawnattrSetsigmask = (attr: Buffer, set: Buffer): number =>
  fn('int posix_spawnattr_setsigmask(spawn_attr_ptr attr, const void *sigset)')(attr, set);
export const posixSpawnattrDestroy = (attr: Buffer): number => fn('int posix_spawnattr_destroy(spawn_attr_ptr attr)')(attr);
/** posix_spawn; returns an error number (not -1/errno) and the pid in `pidOut[0]`. */
export const posixSpawn = (pidOut: number[], path: string, actions: Buffer, attr: Buffer, argv: Array<string | null>, envp: Array<string | null>): number =>
  fn('int posix_spawn(_Out_ pid_t *pid, const char *path, spawn_actions_ptr actions, spawn_attr_ptr attr, const char **argv, const char **envp)')(
    pidOut, path, actions, attr, argv, envp);

/** waitpid; the raw status word in `statusOut[0]`. */
export const waitpid = (pid: number, statusOut: number[], options: number): number =>
  fn('pid_t waitpid(pid_t pid, _Out_ int *status, int options)')(pid, statusOut, options);
export const kill = (pid: number, signal: number): number => fn('int kill(pid_t pid, int sig)')(pid, signal);

// ptrace, syscall and fcntl are variadic in glibc: koffi is told each extra argument's type.
// `addr` and `data` are integers or a Buffer the kernel writes into (GETEVENTMSG).
export function ptrace(request: number, pid: number, addr: number, data: number | Buffer): number {
  const call = fn('long ptrace(int request, ...)');
  return Buffer.isBuffer(data)
    ? call(request, 'pid_t', pid, 'intptr_t', addr, 'void *', data)
    : call(request, 'pid_t', pid, 'intptr_t', addr, 'intptr_t', data);
}
export const fcntlInt = (fd: number, command: number, argument: number): number =>
  fn('int fcntl(int fd, int cmd, ...)')(fd, command, 'int', argument);

/** Syscalls glibc 2.31 (Debian 11) has no wrapper for, by number; undefined where unknown. */
const SYSCALLS: Record<string, Partial<Record<string, number>>> = {
  // kcmp predates the unified numbering; the others are the same on every architecture.
  kcmp: { x64: 312, arm64: 272, riscv64: 272, loong64: 272, ia32: 349, arm: 378 },
  pidfd_send_signal: { all: 424 },
  pidfd_open: { all: 434 },
  close_range: { all: 436 },
};

function syscallNumber(name: keyof typeof SYSCALLS): number | undefined {
  const table = SYSCALLS[name]!;
  return table.all ?? table[process.arch];
}

function syscall5(number: number, a: number, b: number, c: number, d: number, e: number): number {
  return fn('long syscall(long number, ...)')(number, 'intptr_t', a, 'intptr_t', b, 'intptr_t', c, 'intptr_t', d, 'intptr_t', e);
}

/** kcmp(2): 0 when the two resources are the same, -1 with errno on failure; undefined: no syscall number for this CPU. */
export function kcmp(pid1: number, pid2: number, type: number, idx1: number, idx2: number): number | undefined {
  const number = syscallNumber('kcmp');
  return number === undefined ? undefined : syscall5(number, pid1, pid2, type, idx1, idx2);
}
/**
 * kcmp(KCMP_FILE): do `fd1` of `pid1` and `fd2` of `pid2` name the same open file description?
 * undefined when the kernel cannot tell (no syscall number, EPERM, a descriptor or process gone).
 */
export function sameOpenFile(pid1: number, fd1: number, pid2: number, fd2: number): boolean | undefined {
  const r = kcmp(pid1, pid2, 0 /* KCMP_FILE */, fd1, fd2);
  return r === undefined || r < 0 ? undefined : r === 0;
}
export const pidfdOpen = (pid: number, flags: number): number => syscall5(syscallNumber('pidfd_open')!, pid, flags, 0, 0, 0);
export const pidfdSendSignal = (pidfd: number, signal: number): number =>
  syscall5(syscallNumber('pidfd_send_signal')!, pidfd, signal, 0, 0, 0);
/** close_range(first, last, flags); `last` ~0U is passed as 0xffffffff. */
export const closeRange = (first: number, last: number, flags: number): number =>
  syscall5(syscallNumber('close_range')!, first, last, flags, 0, 0);
