/**
 * The seccomp filter that makes origins cheap: SECCOMP_RET_TRACE for the entries that can make an
 * inheritable descriptor or clear close-on-exec (descriptor-calls.ts, the same rules the JS
 * predicate uses), SECCOMP_RET_ALLOW for every other call, every call of another architecture and
 * every x32 call. The tracer (ptrace-loop.ts, PTRACE_O_TRACESECCOMP) stops only there.
 *
 * Calls: prctl(PR_SET_NO_NEW_PRIVS) only without CAP_SYS_ADMIN (the kernel requires one of the two;
 * a non-root tracer's tracees already run setuid programs without their privilege, so it changes
 * nothing they see), seccomp(SECCOMP_SET_MODE_FILTER) without TSYNC: on the calling thread only,
 * inherited by what it spawns and by threads it creates afterwards.
 *
 * Why the filter must never outlive its tracer: with no tracer, SECCOMP_RET_TRACE makes the call
 * fail with ENOSYS. The filtered tree is traced with PTRACE_O_EXITKILL and never detached, so a
 * filtered process has fdscan as its tracer until it dies, and dies with fdscan.
 */
import { errno, koffi, libcFunction as fn } from './libc.js';
import { osErrorName } from '../../src/probe-kit/index.js';
import { hasCapability } from './capabilities.js';
import { AUDIT_ARCH, X32_SYSCALL_BIT, descriptorCalls, type Arch, type ArgTest } from './descriptor-calls.js';

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGT_K = 0x25;
const BPF_JGE_K = 0x35;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_TRACE = 0x7ff00000;
/** offsetof(struct seccomp_data, ...): nr, arch, args[6] (u64 each, the low word first on little-endian). */
const DATA_NR = 0;
const DATA_ARCH = 4;
const dataArg = (i: number): number => 16 + 8 * i;

/** One classic BPF instruction (struct sock_filter) before its jumps are resolved. */
interface Instruction {
  code: number;
  k: number;
  /** Labels (or 'next') of the true and false branches of a jump. */
  jt?: string;
  jf?: string;
  label?: string;
}

/** ptrace's number per architecture, and the requests the filter stops (ptrace-users.ts judges them). */
export const PTRACE_NR: Readonly<Record<Arch, number>> = { x86_64: 101, aarch64: 117 };
const PTRACE_REQUESTS_STOPPED = [0, 16, 0x4206]; // PTRACE_TRACEME, PTRACE_ATTACH, PTRACE_SEIZE

/**
 * The filter for `arch` as struct sock_filter bytes (8 bytes an instruction). Besides the
 * descriptor calls it stops ptrace's TRACEME, ATTACH and SEIZE: a traced program's own attempts to
 * trace, which fail because fdscan is already the tracer (ptrace-users.ts), seen in every program,
 * statically linked or calling through syscall(2) included.
 */
export function compileFilter(arch: Arch): Buffer {
  const program: Instruction[] = [];
  const emit = (i: Instruction): void => { program.push(i); };
  let labels = 0;
  const label = (): string => `L${labels++}`;
  emit({ code: BPF_LD_W_ABS, k: DATA_ARCH });
  emit({ code: BPF_JEQ_K, k: AUDIT_ARCH[arch], jt: 'next', jf: 'allow-top' });
  emit({ code: BPF_LD_W_ABS, k: DATA_NR });
  if (arch === 'x86_64') emit({ code: BPF_JGE_K, k: X32_SYSCALL_BIT, jt: 'allow-top', jf: 'next' });
  const calls = [...descriptorCalls(arch).values(), {
    nr: PTRACE_NR[arch], rule: PTRACE_REQUESTS_STOPPED.map((request) => [{ arg: 0, equals: request }]),
  }];
  for (const call of calls) {
    const nextCall = label();
    const allow = label();
    emit({ code: BPF_JEQ_K, k: call.nr, jt: 'next', jf: nextCall });
    call.rule.forEach((tests, index) => {
      const failed = index === call.rule.length - 1 ? allow : label();
      for (const test of tests) {
        emit({ code: BPF_LD_W_ABS, k: dataArg(test.arg) });
        emit(jumpFor(test, failed));
      }
      emit({ code: BPF_RET_K, k: SECCOMP_RET_TRACE });
      if (failed !== allow) program.push({ code: -1, k: 0, label: failed });
    });
    if (call.rule.length === 0) emit({ code: BPF_RET_K, k: SECCOMP_RET_ALLOW });
    program.push({ code: -1, k: 0, label: allow });
    emit({ code: BPF_RET_K, k: SECCOMP_RET_ALLOW });
    // The next call's test needs the number again: a failed alternative loaded an argument.
    program.push({ code: -1, k: 0, label: nextCall });
    emit({ code: BPF_LD_W_ABS, k: DATA_NR });
  }
  program.push({ code: -1, k: 0, label: 'allow-top' });
  emit({ code: BPF_RET_K, k: SECCOMP_RET_ALLOW });
  return assemble(program);
}

/** The jump of one test: on to the next instruction when it holds, to `failed` when not. */
function jumpFor(test: ArgTest, failed: string): Instruction {
  if ('clear' in test) return { code: BPF_JSET_K, k: test.clear, jt: failed, jf: 'next' };
  if ('equals' in test) return { code: BPF_JEQ_K, k: test.equals, jt: 'next', jf: failed };
  return { code: BPF_JGT_K, k: test.above, jt: 'next', jf: failed };
}

/** Resolve labels (pseudo-instructions with code -1) into forward offsets; classic BPF jumps at most 255 ahead. */
function assemble(program: Instruction[]): Buffer {
  const real: Instruction[] = [];
  const at = new Map<string, number>();
  for (const i of program) {
    if (i.code === -1) at.set(i.label!, real.length);
    else real.push(i);
  }
  const bytes = Buffer.alloc(real.length * 8);
  real.forEach((i, pc) => {
    const offset = (target: string | undefined): number => {
      if (target === undefined || target === 'next') return 0;
      const distance = at.get(target)! - pc - 1;
      if (!(distance >= 0 && distance <= 255)) throw new Error(`seccomp filter: jump to ${target} of ${distance}`);
      return distance;
    };
    bytes.writeUInt16LE(i.code, pc * 8);
    bytes.writeUInt8(offset(i.jt), pc * 8 + 2);
    bytes.writeUInt8(offset(i.jf), pc * 8 + 3);
    bytes.writeUInt32LE(i.k >>> 0, pc * 8 + 4);
  });
  return bytes;
}

const PR_SET_NO_NEW_PRIVS = 38;
const SECCOMP_SET_MODE_FILTER = 1;
const SECCOMP_NR: Partial<Record<Arch, number>> = { x86_64: 317, aarch64: 277 };

/**
 * Install the filter on the calling thread; returns undefined, or why not in one word or errno
 * name. What this thread spawns afterwards inherits it.
 */
export function installFilter(arch: Arch): string | undefined {
  const filter = compileFilter(arch);
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: 16 bytes on LP64.
  const program = Buffer.alloc(16);
  program.writeUInt16LE(filter.length / 8, 0);
  // The kernel copies the program during the call; `filter` stays referenced until it returns.
  program.writeBigUInt64LE(BigInt(koffi().address(filter) as unknown as bigint), 8);
  if (!hasCapability('CAP_SYS_ADMIN')) {
    const prctl = fn('int prctl(int option, ...)');
    if (prctl(PR_SET_NO_NEW_PRIVS, 'unsigned long', 1, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0) !== 0) return osErrorName(errno());
  }
  const call = fn('long syscall(long number, ...)');
  const result = call(SECCOMP_NR[arch]!, 'unsigned int', SECCOMP_SET_MODE_FILTER, 'unsigned int', 0, 'void *', program);
  return result === 0 ? undefined : osErrorName(errno());
}
