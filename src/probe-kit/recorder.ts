/**
 * What a platform's tracer and the trace recorder (src/trace/trace-recorder.ts) hand each other:
 * the reader of a stopped process's table the tracer implements, and the calls it reports.
 */
import type { Descriptor } from './descriptor.js';
import type { OriginTracing, ProtocolPass, StackFrame, TracedProcess, TraceResult } from './trace-result.js';

/** A process's table as the tracer read it: the rows, and what went wrong if it is not complete. */
export interface TableRead {
  rows: Descriptor[];
  error?: string;
  /** The errno name of `error`, when a system call stopped the read (EMFILE, EACCES, ...). */
  errno?: string;
}

/**
 * How much of a table to read. An identity row has its number, type, device and inode (what
 * objectKey matches on), and its target when asked; flags, offset, access and socket details are
 * left out, not read.
 */
export interface TableReadOptions {
  /** Descriptors numbered below this are read for their identity only (Infinity: all of them; 0: none). */
  identityBelow: number;
  /** Whether identity rows carry their target (the link's text); without it their target is ''. */
  targets: boolean;
}

/** What the recorder needs to read of a (stopped) traced process, from the platform's tracer. */
export interface ProcessReader {
  /** The table of `pid`, in full unless `options` say less (a reader may always give more). */
  table(pid: number, options?: TableReadOptions): TableRead;
  argv(pid: number): string[];
  /** The program image's path; `(unreadable: EACCES)` and the like when it cannot be read. */
  exe(pid: number): string;
  /** kcmp: same open file description? undefined when the kernel cannot tell. */
  sameOpenFile(pidA: number, fdA: number, pidB: number, fdB: number): boolean | undefined;
  /** kcmp: do two processes share one descriptor table (clone with CLONE_FILES)? undefined when the kernel cannot tell. */
  sameTable?(pidA: number, pidB: number): boolean | undefined;
  /** Problems met reading tables that concern no one process (socket tables that did not parse). */
  problems(): string[];
  /** What privilege the program just exec'd in `pid` was meant to have and did not get because it is traced, if any. */
  droppedPrivilege?(pid: number): string | undefined;
  /**
   * The variables of `pid`'s environment (as it was exec'd) whose names `wanted` accepts, nothing
   * else: the environment may hold secrets. undefined when it cannot be read.
   */
  environment?(pid: number, wanted: (name: string) => boolean): Map<string, string> | undefined;
  /**
   * Descriptors `pid` was handed on purpose by the way it was started, beyond what its environment
   * names (Windows: the standard handles of STARTUPINFO and the C runtime's lpReserved2 block).
   */
  startupPasses?(pid: number, received: readonly Descriptor[]): ProtocolPass[];
}

/** One call that made descriptors inheritable, as the platform's tracer saw it (its entry and its result). */
export interface MadeCall {
  syscall: string;
  flags: string[];
  path?: string;
  pathBytes?: string;
  peer?: string;
  /** The descriptors it made, or made inheritable again. */
  fds: number[];
  /** Inode of each of `fds` right after the call, where it could be read. */
  inodes?: Array<number | undefined>;
  /** A copy (dup, dup2, dup3, fcntl F_DUPFD): the descriptor copied. */
  sourceFd?: number;
  /** It made an existing open file inheritable (F_SETFD, FIONCLEX, a dup of it). */
  madeInheritable?: boolean;
  /** With `madeInheritable`: the descriptor changed or copied was close-on-exec before the call. */
  wasCloseOnExec?: boolean;
}

/** The stack of a call: frames innermost first, or why there are none. */
export type CallStack = { frames: StackFrame[] } | { reason: string };

/**
 * A stack as the tracer records it at the stop: named (`frames`), none (`reason`), or `unnamed`:
 * frames unwound but not named yet, which OriginIndex names (OriginTracing.nameStack) when a
 * report asks for the origin.
 */
export type RecordedStack = CallStack | { unnamed: StackFrame[] };

/**
 * What a platform's tracer tells the recorder, event by event (src/trace/trace-recorder.ts keeps
 * the lineage behind it; a tracer thread's entry makes one with src/tracer-thread/recorder.ts's
 * createTraceRecorder). Pids name live processes; each call happens while that process is stopped.
 */
export interface TraceRecorder {
  readonly warnings: string[];
  /** Whether origins are traced (set by the platform's tracer) and the stops they took. */
  originTracing?: OriginTracing;
  /** The root, just started by the tracer: its table is a copy of the tracer's. */
  addRoot(pid: number): TracedProcess;
  /** Windows: `childPid` was just created by `parentPid` with its inheritable handles. */
  spawned(parentPid: number, childPid: number, options?: { sampled?: boolean }): TracedProcess | undefined;
  isLive(pid: number): boolean;
  livePids(): number[];
  /** `childPid` was born of `parentPid` with a copy (or, for clone with CLONE_FILES, a share) of its table. */
  fork(parentPid: number, childPid: number, kind: 'fork' | 'vfork' | 'clone'): TracedProcess | undefined;
  /** `pid` just exec'd (it is stopped): record exactly what the new program received. */
  exec(pid: number, options?: { sampled?: boolean; creation?: { process: number | undefined; pid: number }; error?: string }): void;
  /** The kernel refused `request` (PTRACE_TRACEME, ATTACH, SEIZE) to `pid` because fdscan traces it. */
  ptraceRefused(pid: number, request: string, target?: number): void;
  /** `pid` made or changed a descriptor by `call`, with the stack at the call. */
  made(pid: number, call: MadeCall, stack: RecordedStack): void;
  /** `pid` is about to exit: its table as it ends. */
  exiting(pid: number): void;
  exited(pid: number, code: number | undefined, signal: number | undefined): TracedProcess | undefined;
  result(method: TraceResult['method'], exitCode: number, signal: number | undefined): TraceResult;
}
