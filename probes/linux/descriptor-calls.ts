/**
 * The system calls that make a descriptor, or make an existing one inheritable again, per
 * architecture: their numbers, where their flags are, which entries (number + arguments) can leave
 * an INHERITABLE descriptor behind, the names of their flags, and the description of one call from a
 * stopped tracee's PTRACE_GET_SYSCALL_INFO.
 *
 * One table serves both the seccomp filter of the exact tracer (seccomp-filter.ts compiles `rules`
 * to BPF) and the JS predicate `canMakeInheritable`, so they cannot disagree. A rule says when an
 * entry is TRACED: any of its alternatives holds, each a conjunction of tests on the low 32 bits of
 * an argument (what classic BPF sees of seccomp_data.args). Every call that asks for close-on-exec
 * (O_CLOEXEC, SOCK_CLOEXEC, EFD_CLOEXEC, F_DUPFD_CLOEXEC, dup3 O_CLOEXEC, MSG_CMSG_CLOEXEC, ...) fails
 * its rule and runs without a stop. Calls that always make close-on-exec descriptors (pidfd_open,
 * pidfd_getfd, io_uring_setup, bpf, landlock) are not listed.
 *
 * Why 0, 1 and 2 are left out of the "made inheritable again" rules (fcntl F_SETFD, ioctl FIONCLEX,
 * dup2/dup3 onto a descriptor): stdio is meant to be inherited, every shell redirection `2>&1` is a
 * dup2 onto it, and glibc's posix_spawn clears FD_CLOEXEC on 0-2 for fdscan's own stub before it
 * is traced (adddup2 of a descriptor onto itself).
 *
 * Only the 64-bit native ABIs are known (AUDIT_ARCH_X86_64, AUDIT_ARCH_AARCH64); x32 calls (number
 * with bit 30) and 32-bit programs are let through by the filter and not described.
 */
import { readSync, openSync, closeSync } from 'node:fs';
import type { MadeCall } from '../../src/probe-kit/index.js';
import { O_CLOEXEC } from './open-flags.js';

/** Architectures with a table. */
export type Arch = 'x86_64' | 'aarch64';

/** AUDIT_ARCH_* of <linux/audit.h>, as seccomp_data.arch and ptrace_syscall_info.arch give it. */
export const AUDIT_ARCH: Readonly<Record<Arch, number>> = { x86_64: 0xc000003e, aarch64: 0xc00000b7 };
/** x32 ABI calls on x86_64 carry this bit in their number. */
export const X32_SYSCALL_BIT = 0x40000000;

/** The architecture of an AUDIT_ARCH_* value; undefined for one without a table. */
export function archOf(auditArch: number): Arch | undefined {
  return auditArch === AUDIT_ARCH.x86_64 ? 'x86_64' : auditArch === AUDIT_ARCH.aarch64 ? 'aarch64' : undefined;
}

/** The architecture fdscan runs on, when it has a table. */
export function nativeArch(): Arch | undefined {
  return process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'aarch64' : undefined;
}

/** One test on the low 32 bits of an argument. */
export type ArgTest =
  | { arg: number; clear: number } // (arg & clear) === 0: a close-on-exec bit not asked for
  | { arg: number; equals: number }
  | { arg: number; above: number }; // unsigned >

/** When an entry is traced: any alternative whose tests all hold; `[[]]` is always. */
export type TraceRule = ReadonlyArray<ReadonlyArray<ArgTest>>;

/** What a call makes, for describing it. */
export type CallKind =
  | 'open' // path and open flags
  | 'socket' | 'socketpair' | 'accept'
  | 'pipe' // two descriptors written to the int[2] at `fdsArg`
  | 'dup' // a copy of args[0]
  | 'fcntl' | 'ioctl' // F_DUPFD (a copy) or F_SETFD / FIONCLEX (made inheritable again)
  | 'recvmsg' | 'recvmmsg' // descriptors received with SCM_RIGHTS
  | 'anon'; // eventfd, epoll, inotify, signalfd, timerfd, memfd, ...

/** One descriptor-making call of one architecture. */
export interface DescriptorCall {
  name: string;
  nr: number;
  kind: CallKind;
  /** The argument holding the flags that may ask for close-on-exec (none: the call cannot). */
  flagsArg?: number;
  /** Argument holding the path (open family). */
  pathArg?: number;
  /** Argument pointing at the int[2] written (pipe, pipe2, socketpair). */
  fdsArg?: number;
  /** Which entries are traced: those that can make an inheritable descriptor or clear close-on-exec. */
  rule: TraceRule;
}

// Flag values: the same on x86_64 and aarch64 unless an arch table says otherwise.
const FD_CLOEXEC = 1;
const F_DUPFD = 0;
const F_SETFD = 2;
const F_DUPFD_CLOEXEC = 1030;
const FIONCLEX = 0x5450;
const MSG_CMSG_CLOEXEC = 0x40000000;
const MFD_CLOEXEC = 1;
const FAN_CLOEXEC = 1;
const PERF_FLAG_FD_CLOEXEC = 8;
const FS_CLOEXEC = 1; // FSOPEN_CLOEXEC, FSPICK_CLOEXEC, FSMOUNT_CLOEXEC
const ALWAYS: TraceRule = [[]];
const unless = (arg: number, bit: number): TraceRule => [[{ arg, clear: bit }]];
/** Above stdio: see the header. */
const NOT_STDIO = (arg: number): ArgTest => ({ arg, above: 2 });

type Row = Omit<DescriptorCall, 'nr'>;
/** Every call, by name; numbers per architecture below. */
const CALLS: Record<string, Row> = {
  open: { name: 'open', kind: 'open', pathArg: 0, flagsArg: 1, rule: unless(1, O_CLOEXEC) },
  creat: { name: 'creat', kind: 'open', pathArg: 0, rule: ALWAYS },
  openat: { name: 'openat', kind: 'open', pathArg: 1, flagsArg: 2, rule: unless(2, O_CLOEXEC) },
  // The flags are in struct open_how, which BPF cannot read: always stopped, judged at the exit.
  openat2: { name: 'openat2', kind: 'open', pathArg: 1, rule: ALWAYS },
  open_by_handle_at: { name: 'open_by_handle_at', kind: 'open', flagsArg: 2, rule: unless(2, O_CLOEXEC) },
  socket: { name: 'socket', kind: 'socket', flagsArg: 1, rule: unless(1, O_CLOEXEC) },
  socketpair: { name: 'socketpair', kind: 'socketpair', flagsArg: 1, fdsArg: 3, rule: unless(1, O_CLOEXEC) },
  accept: { name: 'accept', kind: 'accept', rule: ALWAYS },
  accept4: { name: 'accept4', kind: 'accept', flagsArg: 3, rule: unless(3, O_CLOEXEC) },
  recvmsg: { name: 'recvmsg', kind: 'recvmsg', flagsArg: 2, rule: unless(2, MSG_CMSG_CLOEXEC) },
  recvmmsg: { name: 'recvmmsg', kind: 'recvmmsg', flagsArg: 3, rule: unless(3, MSG_CMSG_CLOEXEC) },
  pipe: { name: 'pipe', kind: 'pipe', fdsArg: 0, rule: ALWAYS },
  pipe2: { name: 'pipe2', kind: 'pipe', fdsArg: 0, flagsArg: 1, rule: unless(1, O_CLOEXEC) },
  dup: { name: 'dup', kind: 'dup', rule: ALWAYS },
  dup2: { name: 'dup2', kind: 'dup', rule: [[NOT_STDIO(1)]] },
  dup3: { name: 'dup3', kind: 'dup', flagsArg: 2, rule: [[{ arg: 2, clear: O_CLOEXEC }, NOT_STDIO(1)]] },
  fcntl: {
    name: 'fcntl', kind: 'fcntl', flagsArg: 1,
    rule: [[{ arg: 1, equals: F_DUPFD }], [{ arg: 1, equals: F_SETFD }, { arg: 2, clear: FD_CLOEXEC }, NOT_STDIO(0)]],
  },
  ioctl: { name: 'ioctl', kind: 'ioctl', flagsArg: 1, rule: [[{ arg: 1, equals: FIONCLEX }, NOT_STDIO(0)]] },
  eventfd: { name: 'eventfd', kind: 'anon', rule: ALWAYS },
  eventfd2: { name: 'eventfd2', kind: 'anon', flagsArg: 1, rule: unless(1, O_CLOEXEC) },
  epoll_create: { name: 'epoll_create', kind: 'anon', rule: ALWAYS },
  epoll_create1: { name: 'epoll_create1', kind: 'anon', flagsArg: 0, rule: unless(0, O_CLOEXEC) },
  inotify_init: { name: 'inotify_init', kind: 'anon', rule: ALWAYS },
  inotify_init1: { name: 'inotify_init1', kind: 'anon', flagsArg: 0, rule: unless(0, O_CLOEXEC) },
  signalfd: { name: 'signalfd', kind: 'anon', rule: [[{ arg: 0, equals: 0xffffffff }]] }, // only -1 makes one
  signalfd4: { name: 'signalfd4', kind: 'anon', flagsArg: 3, rule: [[{ arg: 0, equals: 0xffffffff }, { arg: 3, clear: O_CLOEXEC }]] },
  timerfd_create: { name: 'timerfd_create', kind: 'anon', flagsArg: 1, rule: unless(1, O_CLOEXEC) },
  memfd_create: { name: 'memfd_create', kind: 'anon', pathArg: 0, flagsArg: 1, rule: unless(1, MFD_CLOEXEC) },
  memfd_secret: { name: 'memfd_secret', kind: 'anon', flagsArg: 0, rule: unless(0, O_CLOEXEC) },
  userfaultfd: { name: 'userfaultfd', kind: 'anon', flagsArg: 0, rule: unless(0, O_CLOEXEC) },
  fanotify_init: { name: 'fanotify_init', kind: 'anon', flagsArg: 0, rule: unless(0, FAN_CLOEXEC) },
  perf_event_open: { name: 'perf_event_open', kind: 'anon', flagsArg: 4, rule: unless(4, PERF_FLAG_FD_CLOEXEC) },
  open_tree: { name: 'open_tree', kind: 'open', pathArg: 1, flagsArg: 2, rule: unless(2, O_CLOEXEC) },
  fsopen: { name: 'fsopen', kind: 'anon', pathArg: 0, flagsArg: 1, rule: unless(1, FS_CLOEXEC) },
  fspick: { name: 'fspick', kind: 'open', pathArg: 1, flagsArg: 2, rule: unless(2, FS_CLOEXEC) },
  fsmount: { name: 'fsmount', kind: 'anon', flagsArg: 1, rule: unless(1, FS_CLOEXEC) },
};

/** Numbers: arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h (aarch64 has no open, creat, pipe, dup2, eventfd, epoll_create, inotify_init, signalfd). */
const NUMBERS: Record<Arch, Record<string, number>> = {
  x86_64: {
    open: 2, creat: 85, openat: 257, openat2: 437, open_by_handle_at: 304, socket: 41, socketpair: 53, accept: 43,
    accept4: 288, recvmsg: 47, recvmmsg: 299, pipe: 22, pipe2: 293, dup: 32, dup2: 33, dup3: 292, fcntl: 72, ioctl: 16,
    eventfd: 284, eventfd2: 290, epoll_create: 213, epoll_create1: 291, inotify_init: 253, inotify_init1: 294,
    signalfd: 282, signalfd4: 289, timerfd_create: 283, memfd_create: 319, memfd_secret: 447, userfaultfd: 323,
    fanotify_init: 300, perf_event_open: 298, open_tree: 428, fsopen: 430, fspick: 433, fsmount: 432,
  },
  aarch64: {
    openat: 56, openat2: 437, open_by_handle_at: 265, socket: 198, socketpair: 199, accept: 202, accept4: 242,
    recvmsg: 212, recvmmsg: 243, pipe2: 59, dup: 23, dup3: 24, fcntl: 25, ioctl: 29, eventfd2: 19, epoll_create1: 20,
    inotify_init1: 26, signalfd4: 74, timerfd_create: 85, memfd_create: 279, memfd_secret: 447, userfaultfd: 282,
    fanotify_init: 262, perf_event_open: 241, open_tree: 428, fsopen: 430, fspick: 433, fsmount: 432,
  },
};

const tables = new Map<Arch, ReadonlyMap<number, DescriptorCall>>();

/** The descriptor-making calls of `arch`, by number. */
export function descriptorCalls(arch: Arch): ReadonlyMap<number, DescriptorCall> {
  let table = tables.get(arch);
  if (!table) {
    table = new Map(Object.entries(NUMBERS[arch]).map(([name, nr]) => [nr, { ...CALLS[name]!, nr }]));
    tables.set(arch, table);
  }
  return table;
}

/** The call `nr` of `arch`, when it is one that makes a descriptor. */
export function descriptorCall(arch: Arch, nr: number): DescriptorCall | undefined {
  return descriptorCalls(arch).get(nr);
}

/** Whether an entry is one the filter stops: it can make an inheritable descriptor or clear close-on-exec. */
export function canMakeInheritable(arch: Arch, nr: number, args: ReadonlyArray<bigint | number>): boolean {
  const call = descriptorCall(arch, nr);
  return call !== undefined && ruleHolds(call.rule, args);
}

/** `stdioToo`: skip the `above` tests (the stdio exclusion), to say whether the result is inheritable. */
function ruleHolds(rule: TraceRule, args: ReadonlyArray<bigint | number>, stdioToo = false): boolean {
  const low = (i: number): number => Number(BigInt.asUintN(32, BigInt(args[i] ?? 0)));
  return rule.some((tests) => tests.every((t) => {
    const value = low(t.arg);
    if (stdioToo && 'above' in t) return true;
    if ('clear' in t) return (value & t.clear) === 0;
    if ('equals' in t) return value === t.equals;
    return value > t.above;
  }));
}

// ---- Flag names -------------------------------------------------------------------------------

/** Open flags whose values differ on aarch64 (asm-generic vs arch/arm64/include/uapi/asm/fcntl.h). */
const OPEN_FLAGS: Record<Arch, ReadonlyArray<readonly [number, string]>> = {
  x86_64: openFlags({ O_DIRECTORY: 0o200000, O_NOFOLLOW: 0o400000, O_DIRECT: 0o40000, O_LARGEFILE: 0o100000 }),
  aarch64: openFlags({ O_DIRECTORY: 0o40000, O_NOFOLLOW: 0o100000, O_DIRECT: 0o200000, O_LARGEFILE: 0o400000 }),
};

function openFlags(own: Record<string, number>): ReadonlyArray<readonly [number, string]> {
  const common: Record<string, number> = {
    O_CREAT: 0o100, O_EXCL: 0o200, O_NOCTTY: 0o400, O_TRUNC: 0o1000, O_APPEND: 0o2000, O_NONBLOCK: 0o4000,
    O_DSYNC: 0o10000, O_ASYNC: 0o20000, O_NOATIME: 0o1000000, O_CLOEXEC, O_SYNC: 0o4010000, O_PATH: 0o10000000,
    O_TMPFILE: 0o20000000 | own.O_DIRECTORY!,
  };
  // Composite flags (O_SYNC, O_TMPFILE) first, so that they are named instead of their parts.
  return Object.entries({ ...common, ...own }).map(([name, bits]) => [bits, name] as const)
    .sort((a, b) => popcount(b[0]) - popcount(a[0]) || a[0] - b[0]);
}

function popcount(n: number): number {
  let count = 0;
  for (let v = n; v; v &= v - 1) count++;
  return count;
}

/** Names of the set bits of `value` from `table`; bits without a name as one hex number. */
function bitNames(value: number, table: ReadonlyArray<readonly [number, string]>): string[] {
  const names: string[] = [];
  let covered = 0;
  for (const [bits, name] of table) {
    if ((value & bits) === bits && (bits & ~covered) !== 0) {
      names.push(name);
      covered |= bits;
    }
  }
  const rest = (value & ~covered) >>> 0;
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names;
}

/** open(2) flags: access mode first, then the flags in ascending value, then "without O_CLOEXEC" when it is missing. */
export function openFlagNames(arch: Arch, flags: number): string[] {
  const access = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE'][flags & 3]!;
  const rest = bitNames(flags & ~3, OPEN_FLAGS[arch]);
  const order = new Map(OPEN_FLAGS[arch].map(([bits, name]) => [name, bits]));
  rest.sort((a, b) => (order.get(a) ?? Infinity) - (order.get(b) ?? Infinity));
  return [access, ...rest, ...(flags & O_CLOEXEC ? [] : [WITHOUT_CLOEXEC])];
}

/** The word that makes a missing close-on-exec visible in a flags list. */
export const WITHOUT_CLOEXEC = 'without O_CLOEXEC';

const ADDRESS_FAMILIES: Record<number, string> = {
  0: 'AF_UNSPEC', 1: 'AF_UNIX', 2: 'AF_INET', 10: 'AF_INET6', 16: 'AF_NETLINK', 17: 'AF_PACKET', 38: 'AF_ALG', 40: 'AF_VSOCK',
};
const SOCKET_TYPES: Record<number, string> = {
  1: 'SOCK_STREAM', 2: 'SOCK_DGRAM', 3: 'SOCK_RAW', 4: 'SOCK_RDM', 5: 'SOCK_SEQPACKET', 6: 'SOCK_DCCP', 10: 'SOCK_PACKET',
};
const SOCK_FLAGS: ReadonlyArray<readonly [number, string]> = [[0o4000, 'SOCK_NONBLOCK'], [O_CLOEXEC, 'SOCK_CLOEXEC']];

/** socket(2)/socketpair(2) domain and type, e.g. ["AF_INET", "SOCK_STREAM", "without SOCK_CLOEXEC"]. */
export function socketFlagNames(domain: number, type: number): string[] {
  const base = type & 0xf;
  return [
    ADDRESS_FAMILIES[domain] ?? `AF_${domain}`,
    SOCKET_TYPES[base] ?? `SOCK_${base}`,
    ...bitNames(type & ~0xf, SOCK_FLAGS),
    ...(type & O_CLOEXEC ? [] : ['without SOCK_CLOEXEC']),
  ];
}

/** The flag names of one call's entry, as `describeCall` gives them. */
export function callFlagNames(arch: Arch, call: DescriptorCall, args: ReadonlyArray<bigint>): string[] {
  const low = (i: number): number => Number(BigInt.asUintN(32, args[i] ?? 0n));
  switch (call.name) {
    case 'creat':
      return ['O_WRONLY', 'O_CREAT', 'O_TRUNC', WITHOUT_CLOEXEC];
    case 'open': case 'openat': case 'open_by_handle_at': case 'open_tree':
      return openFlagNames(arch, low(call.flagsArg!));
    case 'socket': case 'socketpair':
      return socketFlagNames(low(0), low(1));
    case 'accept':
      return ['without SOCK_CLOEXEC'];
    case 'accept4':
      return [...bitNames(low(3), SOCK_FLAGS), ...(low(3) & O_CLOEXEC ? [] : ['without SOCK_CLOEXEC'])];
    case 'recvmsg': case 'recvmmsg':
      return [...bitNames(low(call.flagsArg!) & ~MSG_CMSG_CLOEXEC, MSG_FLAGS), ...(low(call.flagsArg!) & MSG_CMSG_CLOEXEC ? ['MSG_CMSG_CLOEXEC'] : ['without MSG_CMSG_CLOEXEC'])];
    case 'dup': case 'dup2':
      return [];
    case 'dup3':
      return low(2) & O_CLOEXEC ? ['O_CLOEXEC'] : [WITHOUT_CLOEXEC];
    case 'fcntl': {
      const command = low(1);
      if (command === F_DUPFD) return ['F_DUPFD'];
      if (command === F_DUPFD_CLOEXEC) return ['F_DUPFD_CLOEXEC'];
      if (command === F_SETFD) return ['F_SETFD', low(2) & FD_CLOEXEC ? 'FD_CLOEXEC' : 'without FD_CLOEXEC'];
      return [`F_${command}`];
    }
    case 'ioctl':
      return low(1) === FIONCLEX ? ['FIONCLEX'] : [`0x${low(1).toString(16)}`];
    case 'memfd_create':
      return [...bitNames(low(1), [[MFD_CLOEXEC, 'MFD_CLOEXEC'], [2, 'MFD_ALLOW_SEALING'], [4, 'MFD_HUGETLB']]), ...(low(1) & MFD_CLOEXEC ? [] : ['without MFD_CLOEXEC'])];
    case 'eventfd': case 'epoll_create': case 'inotify_init': case 'signalfd':
      return [WITHOUT_CLOEXEC];
    default: {
      if (call.flagsArg === undefined) return [];
      const flags = low(call.flagsArg);
      const bit = CLOEXEC_BIT[call.name] ?? O_CLOEXEC;
      const name = CLOEXEC_NAME[call.name] ?? 'O_CLOEXEC';
      return [...bitNames(flags & ~bit, [[0o4000, 'O_NONBLOCK']]), ...(flags & bit ? [name] : [`without ${name}`])];
    }
  }
}

const MSG_FLAGS: ReadonlyArray<readonly [number, string]> = [[0x1, 'MSG_OOB'], [0x2, 'MSG_PEEK'], [0x40, 'MSG_DONTWAIT'], [0x100, 'MSG_WAITALL'], [0x10000, 'MSG_WAITFORONE']];
const CLOEXEC_BIT: Record<string, number> = { fanotify_init: FAN_CLOEXEC, perf_event_open: PERF_FLAG_FD_CLOEXEC, fsopen: FS_CLOEXEC, fspick: FS_CLOEXEC, fsmount: FS_CLOEXEC };
const CLOEXEC_NAME: Record<string, string> = {
  eventfd2: 'EFD_CLOEXEC', epoll_create1: 'EPOLL_CLOEXEC', inotify_init1: 'IN_CLOEXEC', signalfd4: 'SFD_CLOEXEC', timerfd_create: 'TFD_CLOEXEC',
  fanotify_init: 'FAN_CLOEXEC', perf_event_open: 'PERF_FLAG_FD_CLOEXEC', fsopen: 'FSOPEN_CLOEXEC', fspick: 'FSPICK_CLOEXEC', fsmount: 'FSMOUNT_CLOEXEC',
  open_tree: 'OPEN_TREE_CLOEXEC', memfd_secret: 'O_CLOEXEC', userfaultfd: 'O_CLOEXEC',
};

// ---- One stopped call ----------------------------------------------------------------------------

/** PTRACE_GET_SYSCALL_INFO. */
export const PTRACE_GET_SYSCALL_INFO = 0x420e;
/** struct ptrace_syscall_info is 88 bytes with its largest member (seccomp). */
export const SYSCALL_INFO_BYTES = 88;
const OP_ENTRY = 1;
const OP_EXIT = 2;
const OP_SECCOMP = 3;

/** A call as it entered: at a seccomp stop or a syscall-entry stop. */
export interface SyscallEntry {
  /** AUDIT_ARCH_* of the call. */
  auditArch: number;
  nr: number;
  args: bigint[];
  instructionPointer: bigint;
  stackPointer: bigint;
}

/** A parsed PTRACE_GET_SYSCALL_INFO buffer: an entry (seccomp or syscall-entry stop), an exit, or nothing. */
export type SyscallInfo =
  | ({ op: 'entry' | 'seccomp' } & SyscallEntry)
  | { op: 'exit'; value: bigint; isError: boolean }
  | { op: 'none' };

/** Parse the buffer PTRACE_GET_SYSCALL_INFO filled (layout of <linux/ptrace.h>, the same on every 64-bit arch). */
export function parseSyscallInfo(info: Buffer): SyscallInfo {
  const op = info[0];
  if (op === OP_EXIT) return { op: 'exit', value: info.readBigInt64LE(24), isError: info[32] !== 0 };
  if (op !== OP_ENTRY && op !== OP_SECCOMP) return { op: 'none' };
  const args: bigint[] = [];
  for (let i = 0; i < 6; i++) args.push(info.readBigUInt64LE(32 + 8 * i));
  return {
    op: op === OP_ENTRY ? 'entry' : 'seccomp',
    auditArch: info.readUInt32LE(4),
    nr: Number(info.readBigUInt64LE(24)),
    args,
    instructionPointer: info.readBigUInt64LE(8),
    stackPointer: info.readBigUInt64LE(16),
  };
}

/** Reads a stopped tracee's memory; undefined where it cannot. */
export type MemoryReader = (address: bigint, length: number) => Buffer | undefined;

/** A MemoryReader over /proc/PID/mem (the caller must be the tracee's tracer, or root). Close it with `close()`. */
export function procMemory(pid: number): MemoryReader & { close(): void } {
  let fd: number | undefined;
  let failed = false;
  const read = ((address: bigint, length: number): Buffer | undefined => {
    if (failed || address === 0n) return undefined;
    try {
      fd ??= openSync(`/proc/${pid}/mem`, 'r');
    } catch {
      failed = true;
      return undefined;
    }
    const buffer = Buffer.alloc(length);
    try {
      const n = readSync(fd, buffer, 0, length, address);
      return buffer.subarray(0, n);
    } catch {
      return undefined;
    }
  }) as MemoryReader & { close(): void };
  read.close = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  return read;
}

/**
 * What one call made, as its entry and exit say: the recorder's MadeCall (the kit's shape) before the
 * tracer adds what it reads after the call, and whether `fds` are inheritable after it.
 */
export interface CallDescription extends Omit<MadeCall, 'inodes' | 'wasCloseOnExec'> {
  /** Whether `fds` are inheritable after the call. */
  inheritable: boolean;
}

/**
 * Describe a call from its entry and its return value (the exit stop's); undefined when it failed
 * or made nothing (an error return, recvmsg without SCM_RIGHTS) or is not a descriptor-making call.
 * `memory` reads paths, pipe pairs and received descriptors; without it those are absent.
 */
export function describeCall(entry: SyscallEntry, value: bigint, memory?: MemoryReader): CallDescription | undefined {
  const arch = archOf(entry.auditArch);
  if (!arch || value < 0n) return undefined;
  const call = descriptorCall(arch, entry.nr);
  if (!call) return undefined;
  const args = entry.args;
  const low = (i: number): number => Number(BigInt.asUintN(32, args[i] ?? 0n));
  const flags = callFlagNames(arch, call, args);
  const inheritableByRule = ruleHolds(call.rule, args, true);
  const result = Number(value);
  const out: CallDescription = { syscall: call.name, flags, fds: [result], inheritable: inheritableByRule };
  if (call.pathArg !== undefined && memory) setPath(out, readCString(memory, args[call.pathArg]!));
  switch (call.kind) {
    case 'open':
      if (call.name === 'openat2') {
        // struct open_how { u64 flags; u64 mode; u64 resolve }: the flags decide it.
        const how = memory?.(args[2]!, 8);
        if (how && how.length === 8) {
          const openFlags = Number(BigInt.asUintN(32, how.readBigUInt64LE(0)));
          out.flags = openFlagNames(arch, openFlags);
          out.inheritable = (openFlags & O_CLOEXEC) === 0;
        }
      }
      break;
    case 'pipe': case 'socketpair': {
      const pair = memory?.(args[call.fdsArg!]!, 8);
      out.fds = pair && pair.length === 8 ? [pair.readInt32LE(0), pair.readInt32LE(4)] : [];
      break;
    }
    case 'accept': {
      const peer = memory && args[1] ? readSockaddr(memory, args[1], args[2]!) : undefined;
      if (peer) out.peer = peer;
      break;
    }
    case 'dup':
      out.sourceFd = low(0);
      out.madeInheritable = true;
      if (call.name === 'dup2' && low(0) === result) return undefined; // dup2(fd, fd) changes nothing
      break;
    case 'fcntl':
      if (low(1) === F_SETFD) {
        out.fds = [low(0)];
        out.madeInheritable = true;
      } else if (low(1) === F_DUPFD || low(1) === F_DUPFD_CLOEXEC) {
        out.sourceFd = low(0);
        out.madeInheritable = low(1) === F_DUPFD;
      } else {
        return undefined;
      }
      break;
    case 'ioctl':
      if (low(1) !== FIONCLEX) return undefined;
      out.fds = [low(0)];
      out.madeInheritable = true;
      break;
    case 'recvmsg': case 'recvmmsg': {
      out.fds = memory ? receivedFds(memory, call.kind, args, result) : [];
      if (out.fds.length === 0) return undefined;
      break;
    }
    default:
      break;
  }
  return out;
}

function setPath(out: CallDescription, bytes: Buffer | undefined): void {
  if (!bytes) return;
  out.path = bytes.toString('utf8');
  if (!Buffer.from(out.path, 'utf8').equals(bytes)) out.pathBytes = bytes.toString('base64');
}

/** A NUL-terminated string of at most PATH_MAX bytes, read in pages so as not to cross into an unmapped one. */
function readCString(memory: MemoryReader, address: bigint): Buffer | undefined {
  if (address === 0n) return undefined;
  const parts: Buffer[] = [];
  let at = address;
  let total = 0;
  while (total < 4096) {
    const room = 4096 - Number(at % 4096n);
    const chunk = memory(at, room);
    if (!chunk || chunk.length === 0) return parts.length ? Buffer.concat(parts) : undefined;
    const nul = chunk.indexOf(0);
    if (nul >= 0) {
      parts.push(chunk.subarray(0, nul));
      return Buffer.concat(parts);
    }
    parts.push(chunk);
    total += chunk.length;
    at += BigInt(chunk.length);
  }
  return Buffer.concat(parts);
}

/** An AF_INET, AF_INET6 or AF_UNIX address written by accept, as "host:port" or the socket's path. */
function readSockaddr(memory: MemoryReader, address: bigint, lengthAddress: bigint): string | undefined {
  const lengthBytes = lengthAddress ? memory(lengthAddress, 4) : undefined;
  const length = lengthBytes && lengthBytes.length === 4 ? Math.min(lengthBytes.readUInt32LE(0), 128) : 128;
  const bytes = memory(address, length);
  if (!bytes || bytes.length < 2) return undefined;
  const family = bytes.readUInt16LE(0);
  if (family === 2 && bytes.length >= 8) return `${[...bytes.subarray(4, 8)].join('.')}:${bytes.readUInt16BE(2)}`;
  if (family === 10 && bytes.length >= 24) {
    const groups: string[] = [];
    for (let i = 8; i < 24; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    return `[${groups.join(':')}]:${bytes.readUInt16BE(2)}`;
  }
  if (family === 1) {
    const path = bytes.subarray(2);
    if (path.length === 0) return '(unnamed)';
    if (path[0] === 0) return `@${path.subarray(1).toString('utf8').replace(/\0+$/, '')}`;
    const nul = path.indexOf(0);
    return (nul >= 0 ? path.subarray(0, nul) : path).toString('utf8');
  }
  return undefined;
}

/** Descriptors received with SCM_RIGHTS by recvmsg (one msghdr at args[1]) or recvmmsg (`count` mmsghdrs at args[1]). */
function receivedFds(memory: MemoryReader, kind: 'recvmsg' | 'recvmmsg', args: ReadonlyArray<bigint>, count: number): number[] {
  // struct msghdr (LP64): name 0, namelen 8, iov 16, iovlen 24, control 32, controllen 40, flags 48; 56 bytes.
  // struct mmsghdr: msghdr, then unsigned msg_len: 64 bytes with padding.
  const headers = kind === 'recvmsg' ? [args[1]!] : Array.from({ length: Math.min(count, 1024) }, (_, i) => args[1]! + BigInt(64 * i));
  const fds: number[] = [];
  for (const header of headers) {
    const msg = memory(header, 56);
    if (!msg || msg.length < 56) continue;
    const control = msg.readBigUInt64LE(32);
    const controlLength = Math.min(Number(msg.readBigUInt64LE(40)), 64 * 1024);
    if (!control || controlLength < 16) continue;
    const cmsgs = memory(control, controlLength);
    if (!cmsgs) continue;
    // struct cmsghdr: size_t len, int level, int type, data; each aligned to 8.
    for (let at = 0; at + 16 <= cmsgs.length;) {
      const len = Number(cmsgs.readBigUInt64LE(at));
      if (len < 16) break;
      if (cmsgs.readInt32LE(at + 8) === 1 && cmsgs.readInt32LE(at + 12) === 1) { // SOL_SOCKET, SCM_RIGHTS
        for (let p = at + 16; p + 4 <= Math.min(at + len, cmsgs.length); p += 4) fds.push(cmsgs.readInt32LE(p));
      }
      at += (len + 7) & ~7;
    }
  }
  return fds;
}
