/**
 * What the live origin watcher (syscall-watch-worker.ts) needs to know of a syscall, in one place:
 * which calls make a descriptor, how to name their flags, and the stack of the stopped thread.
 * A minimal table of its own (x86_64 and aarch64) until descriptor-calls.ts (issue 21, branch
 * origin-tracer) gives the full one; swapping it is an edit of this file only.
 */
import type { StackFrame } from '../../src/probe-contract.js';

/** One syscall at its entry: its number, six raw arguments and the AUDIT_ARCH_* of the calling thread. */
export interface SyscallEntry {
  arch: number;
  nr: number;
  args: bigint[];
}

/** A descriptor-making call as decoded: the call, its flags, where the new descriptor(s) are. */
export interface MadeDescriptor {
  syscall: string;
  flags: string[];
  /** The new descriptor (the return value), or where the kernel wrote two (pipe, socketpair). */
  fds: number[] | { pairAt: bigint };
}

const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;

/** Descriptor-making syscalls by number, per arch (arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/unistd.h). */
const CALLS = new Map<number, Map<number, string>>([
  [AUDIT_ARCH_X86_64, new Map([
    [2, 'open'], [85, 'creat'], [257, 'openat'], [437, 'openat2'], [41, 'socket'], [53, 'socketpair'],
    [43, 'accept'], [288, 'accept4'], [22, 'pipe'], [293, 'pipe2'], [32, 'dup'], [33, 'dup2'], [292, 'dup3'],
    [72, 'fcntl'], [16, 'ioctl'], [284, 'eventfd'], [290, 'eventfd2'], [213, 'epoll_create'], [291, 'epoll_create1'],
    [253, 'inotify_init'], [294, 'inotify_init1'], [282, 'signalfd'], [289, 'signalfd4'], [283, 'timerfd_create'],
    [319, 'memfd_create'], [434, 'pidfd_open'],
  ])],
  [AUDIT_ARCH_AARCH64, new Map([
    [56, 'openat'], [437, 'openat2'], [198, 'socket'], [199, 'socketpair'], [202, 'accept'], [242, 'accept4'],
    [59, 'pipe2'], [23, 'dup'], [24, 'dup3'], [25, 'fcntl'], [29, 'ioctl'], [19, 'eventfd2'], [20, 'epoll_create1'],
    [26, 'inotify_init1'], [74, 'signalfd4'], [85, 'timerfd_create'], [279, 'memfd_create'], [434, 'pidfd_open'],
  ])],
]);

/** The name of a syscall this watcher decodes; undefined for every other. */
export function callName(entry: SyscallEntry): string | undefined {
  return CALLS.get(entry.arch)?.get(entry.nr);
}

const O_FLAGS: Array<[number, string]> = [
  [0o100, 'O_CREAT'], [0o200, 'O_EXCL'], [0o1000, 'O_TRUNC'], [0o2000, 'O_APPEND'], [0o4000, 'O_NONBLOCK'],
  [0o200000, 'O_DIRECTORY'], [0o400000, 'O_NOFOLLOW'], [0o2000000, 'O_CLOEXEC'], [0o10000000, 'O_PATH'],
];
const FAMILIES = new Map([[1, 'AF_UNIX'], [2, 'AF_INET'], [10, 'AF_INET6'], [16, 'AF_NETLINK'], [17, 'AF_PACKET']]);
const SOCK_TYPES = new Map([[1, 'SOCK_STREAM'], [2, 'SOCK_DGRAM'], [3, 'SOCK_RAW'], [5, 'SOCK_SEQPACKET']]);
const SOCK_CLOEXEC = 0o2000000;
const SOCK_NONBLOCK = 0o4000;
const F_DUPFD = 0;
const F_SETFD = 2;
const F_DUPFD_CLOEXEC = 1030;
const FD_CLOEXEC = 1;
const FIONCLEX = 0x5450;

function openFlags(value: bigint): string[] {
  const v = Number(value & 0xffffffffn);
  const access = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'][v & 3]!;
  return [access, ...O_FLAGS.filter(([bit]) => v & bit).map(([, name]) => name)];
}

/** SOCK_CLOEXEC and SOCK_NONBLOCK of a socket type or an accept4/pipe2/eventfd2-style flags word. */
function cloexecFlags(value: bigint, cloexec = 'O_CLOEXEC', nonblock = 'O_NONBLOCK'): string[] {
  const v = Number(value & 0xffffffffn);
  return [...(v & SOCK_CLOEXEC ? [cloexec] : []), ...(v & SOCK_NONBLOCK ? [nonblock] : [])];
}

/**
 * The descriptor(s) a call made, from its entry and its (non-negative) return value; undefined when
 * it made none (fcntl other than F_DUPFD, ioctl).
 */
export function madeBy(entry: SyscallEntry, result: number): MadeDescriptor | undefined {
  const name = callName(entry);
  const a = entry.args;
  const x64 = entry.arch === AUDIT_ARCH_X86_64;
  const one = (flags: string[]): MadeDescriptor => ({ syscall: name!, flags, fds: [result] });
  switch (name) {
    case 'open': return one(openFlags(a[1]!));
    case 'creat': return one(['O_WRONLY', 'O_CREAT', 'O_TRUNC']);
    case 'openat': return one(openFlags(a[2]!));
    case 'openat2': return one([]); // flags are in a struct open_how in the tracee's memory
    case 'socket': {
      const type = Number(a[1]! & 0xfn);
      return one([FAMILIES.get(Number(a[0]!)) ?? `family ${a[0]}`, SOCK_TYPES.get(type) ?? `type ${type}`, ...cloexecFlags(a[1]!, 'SOCK_CLOEXEC', 'SOCK_NONBLOCK')]);
    }
    case 'socketpair': {
      const type = Number(a[1]! & 0xfn);
      return { syscall: name, flags: [FAMILIES.get(Number(a[0]!)) ?? `family ${a[0]}`, SOCK_TYPES.get(type) ?? `type ${type}`, ...cloexecFlags(a[1]!, 'SOCK_CLOEXEC', 'SOCK_NONBLOCK')], fds: { pairAt: a[3]! } };
    }
    case 'accept': return one([]);
    case 'accept4': return one(cloexecFlags(a[3]!, 'SOCK_CLOEXEC', 'SOCK_NONBLOCK'));
    case 'pipe': return { syscall: name, flags: [], fds: { pairAt: a[0]! } };
    case 'pipe2': return { syscall: name, flags: cloexecFlags(a[1]!), fds: { pairAt: a[0]! } };
    case 'dup': case 'dup2': return one([]);
    case 'dup3': return one(cloexecFlags(a[2]!));
    case 'fcntl': {
      const command = Number(a[1]!);
      if (command === F_DUPFD) return one(['F_DUPFD']);
      if (command === F_DUPFD_CLOEXEC) return one(['F_DUPFD_CLOEXEC']);
      return undefined;
    }
    case 'ioctl': return undefined;
    case 'eventfd': case 'epoll_create': case 'inotify_init': return one([]);
    case 'eventfd2': return one(cloexecFlags(a[1]!, 'EFD_CLOEXEC', 'EFD_NONBLOCK'));
    case 'epoll_create1': return one(cloexecFlags(a[0]!, 'EPOLL_CLOEXEC', 'O_NONBLOCK'));
    case 'inotify_init1': return one(cloexecFlags(a[0]!, 'IN_CLOEXEC', 'IN_NONBLOCK'));
    case 'signalfd': return one([]);
    case 'signalfd4': return one(cloexecFlags(a[3]!, 'SFD_CLOEXEC', 'SFD_NONBLOCK'));
    case 'timerfd_create': return one(cloexecFlags(a[1]!, 'TFD_CLOEXEC', 'TFD_NONBLOCK'));
    case 'memfd_create': return one(Number(a[1]!) & 1 ? ['MFD_CLOEXEC'] : []);
    case 'pidfd_open': return one([]);
    default:
      void x64;
      return undefined;
  }
}

/** The descriptor whose close-on-exec flag the call clears (fcntl F_SETFD without FD_CLOEXEC, ioctl FIONCLEX); else undefined. */
export function clearsCloseOnExec(entry: SyscallEntry): { fd: number; syscall: string; flags: string[] } | undefined {
  const name = callName(entry);
  const a = entry.args;
  if (name === 'fcntl' && Number(a[1]!) === F_SETFD && (Number(a[2]!) & FD_CLOEXEC) === 0) return { fd: Number(a[0]!), syscall: 'fcntl', flags: ['F_SETFD', '0'] };
  if (name === 'ioctl' && Number(a[1]! & 0xffffffffn) === FIONCLEX) return { fd: Number(a[0]!), syscall: 'ioctl', flags: ['FIONCLEX'] };
  return undefined;
}

/** The stack of stopped thread `tid` of `pid`, innermost first; `missing` says why there is none. */
export function readStack(pid: number, tid: number): { stack: StackFrame[]; missing?: string } {
  void pid; void tid;
  return { stack: [], missing: 'no-unwinder' };
}
