/**
 * Tracees that try to trace: a process has one tracer, and fdscan is already the tracer of every
 * process of the tree, so a tracee's PTRACE_TRACEME, or its PTRACE_ATTACH / PTRACE_SEIZE of another
 * process of the tree (strace's and gdb's child), fails with EPERM, and the program with it.
 *
 * How it is known, not guessed: a program whose executable imports `ptrace` (elf-imports.ts: strace,
 * gdb, ltrace, perf, a C program calling ptrace()) is resumed with PTRACE_SYSCALL instead of
 * PTRACE_CONT, it and the processes and threads it creates, until it execs another program. At
 * each syscall-stop PTRACE_GET_SYSCALL_INFO says the call and its result: a ptrace call that the
 * kernel refused with EPERM because fdscan traces its target is recorded (TraceRecorder.ptraceRefused).
 * Every other program runs with no syscall-stop at all. Not seen: a program that calls ptrace
 * without importing it (statically linked, through syscall(2), a library loaded at run time).
 *
 * With origins (seccomp-filter.ts), the filter stops every PTRACE_TRACEME, PTRACE_ATTACH and
 * PTRACE_SEIZE of every program of the tree, however it calls ptrace: the loop hands the entry to
 * `seccompEntry`, resumes to the exit stop, judged as above; no program is watched by its imports.
 */
import { constants } from 'node:os';
import { ptrace } from './libc-process.js';
import type { TraceRecorder } from '../../src/probe-kit/index.js';
import { importsSymbol } from './elf-imports.js';
import { PTRACE_ATTACH, PTRACE_CONT, PTRACE_GET_SYSCALL_INFO, PTRACE_SEIZE, PTRACE_SYSCALL, PTRACE_TRACEME } from './ptrace-requests.js';

/** struct ptrace_syscall_info (<linux/ptrace.h>): 88 bytes with its largest member. */
const SYSCALL_INFO_BYTES = 88;
const SYSCALL_INFO_ENTRY = 1;
const SYSCALL_INFO_EXIT = 2;
/** With PTRACE_O_TRACESYSGOOD a syscall-stop reports SIGTRAP | 0x80. */
const SYSCALL_STOP = constants.signals.SIGTRAP | 0x80;
const EPERM = constants.errno.EPERM;
const REQUESTS = new Map([[PTRACE_TRACEME, 'PTRACE_TRACEME'], [PTRACE_ATTACH, 'PTRACE_ATTACH'], [PTRACE_SEIZE, 'PTRACE_SEIZE']]);
/** The ptrace syscall's number by AUDIT_ARCH_* (<linux/audit.h>): a 32-bit program on a 64-bit kernel has its own. */
const PTRACE_NUMBER = new Map([
  [0xc000003e, 101], // x86_64
  [0x40000003, 26], // i386
  [0xc00000b7, 117], // aarch64
  [0x40000028, 26], // arm
  [0xc00000f3, 117], // riscv64
]);

/** The tracer loop's bookkeeping of the tracees it resumes with syscall-stops. */
export class PtraceUsers {
  /** Tids resumed with PTRACE_SYSCALL. */
  private readonly watched = new Set<number>();
  /** A ptrace call entered by a watched tid, until its exit stop says how it ended. */
  private readonly entered = new Map<number, { request: number; target: number }>();
  private readonly info = Buffer.alloc(SYSCALL_INFO_BYTES);

  /**
   * `byFilter`: the origins filter (seccomp-filter.ts) stops every ptrace call that asks to trace, in
   * every program; then no program is resumed with syscall-stops, and `seccompEntry` notes each call.
   */
  constructor(private readonly recorder: TraceRecorder, private readonly processOf: (tid: number) => number, private readonly byFilter = false) {}

  /** The request that resumes `tid`: syscall-stops for a watched one, and for one whose ptrace call's exit is to come. */
  resumeRequest(tid: number): number {
    return this.watched.has(tid) || this.entered.has(tid) ? PTRACE_SYSCALL : PTRACE_CONT;
  }

  /** The filter stopped `tid` at a ptrace call (`args`: its entry): its exit stop judges it. */
  seccompEntry(tid: number, args: readonly bigint[]): void {
    this.entered.set(tid, { request: Number(BigInt.asIntN(32, args[0]!)), target: Number(BigInt.asIntN(32, args[1]!)) });
  }

  /** `pid` exec'd (it is stopped at the exec event): watch it when its new program imports ptrace. */
  exec(pid: number): void {
    this.entered.delete(pid);
    if (this.byFilter) return;
    if (importsSymbol(`/proc/${pid}/exe`, 'ptrace')) this.watched.add(pid);
    else this.watched.delete(pid);
  }

  /** `child` (a process or a thread) was created by `parent`: it runs the same program. */
  inherit(parent: number, child: number): void {
    if (this.watched.has(parent)) this.watched.add(child);
  }

  gone(tid: number): void {
    this.watched.delete(tid);
    this.entered.delete(tid);
  }

  isSyscallStop(signal: number): boolean {
    return signal === SYSCALL_STOP;
  }

  /** A syscall-stop of a watched tid: note a ptrace call at its entry, judge it at its exit. */
  syscallStop(tid: number): void {
    const info = this.info.fill(0);
    if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, SYSCALL_INFO_BYTES, info) <= 0) return;
    const op = info[0];
    if (op === SYSCALL_INFO_ENTRY) {
      const ptraceNumber = PTRACE_NUMBER.get(info.readUInt32LE(4));
      if (ptraceNumber !== undefined && info.readBigUInt64LE(24) === BigInt(ptraceNumber)) {
        this.entered.set(tid, { request: Number(BigInt.asIntN(32, info.readBigUInt64LE(32))), target: Number(BigInt.asIntN(32, info.readBigUInt64LE(40))) });
      }
      return;
    }
    const call = this.entered.get(tid);
    this.entered.delete(tid);
    if (op !== SYSCALL_INFO_EXIT || !call) return;
    const request = REQUESTS.get(call.request);
    if (request === undefined || info.readBigInt64LE(24) !== BigInt(-EPERM)) return;
    if (call.request === PTRACE_TRACEME) {
      this.recorder.ptraceRefused(this.processOf(tid), request);
    } else if (this.recorder.isLive(call.target)) {
      // Refused for a target outside the tree: not fdscan's doing (yama, another user's process).
      this.recorder.ptraceRefused(this.processOf(tid), request, call.target);
    } else {
      return;
    }
    // Known now: no more syscall-stops for this one.
    this.watched.delete(tid);
  }
}
