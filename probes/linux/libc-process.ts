/**
 * libc calls of process control: spawning the stopped stub, waiting, ptrace, signals through
 * pidfds, close-on-exec and O_NONBLOCK on descriptors, and the syscalls glibc 2.31 has no wrapper for.
 */
import { libcFunction as fn } from './libc.js';

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
/** posix_spawn; returns an error number (not -1/errno) and the pid in `pidOut[0]`. A Buffer in argv or envp ends with its NUL. */
export const posixSpawn = (pidOut: number[], path: string, actions: Buffer, attr: Buffer, argv: Array<string | Buffer | null>, envp: Array<string | Buffer | null>): number =>
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
export const pidfdOpen = (pid: number, flags: number): number => syscall5(syscallNumber('pidfd_open')!, pid, flags, 0, 0, 0);
export const pidfdSendSignal = (pidfd: number, signal: number): number =>
  syscall5(syscallNumber('pidfd_send_signal')!, pidfd, signal, 0, 0, 0);
/** close_range(first, last, flags); `last` ~0U is passed as 0xffffffff. */
export const closeRange = (first: number, last: number, flags: number): number =>
  syscall5(syscallNumber('close_range')!, first, last, flags, 0, 0);

/** Whether `path` carries file capabilities (the security.capability extended attribute). */
export function fileCapabilities(path: string): boolean {
  return fn('ssize_t getxattr(const char *path, const char *name, _Out_ void *value, size_t size)')(path, 'security.capability', null, 0) > 0;
}
