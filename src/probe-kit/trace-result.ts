/**
 * The shape of a trace: every process of a command's tree, every exec with exactly the descriptors
 * the new program received, and for each descriptor where it came from.
 *
 * Lineage, so a caller can answer "who first held the descriptor this exec received?":
 * - A process is born (fork/vfork/clone) with a copy of its parent's table; the tracer reads the
 *   parent's table at the fork stop, when the copy is exact (each descriptor's identity only: that
 *   table is matched against, never shown).
 * - At each exec (and at exit) the tracer reads the process's table again and matches every
 *   descriptor to the table it had before: same object (device+inode+type) at the same number, else
 *   at another number (a dup). A match keeps the origin; no match means this process opened it.
 * - `firstHolder` follows that chain to the first process of the tree that held the open file:
 *   the one that opened it, or the root for what came from the tracer (`ambient`).
 * Processes are numbered by `id` (their index in `processes`) because pids may be reused.
 */
import type { Descriptor } from './descriptor.js';

/** The protocols fdscan knows. */
export type ProtocolName =
  | 'make-jobserver' | 'systemd-socket-activation' | 'gunicorn' | 'werkzeug' | 'einhorn' | 'server-starter'
  | 'node-ipc' | 'wayland' | 'python-multiprocessing' | 'nginx-upgrade' | 'windows-stdio';

/** Descriptors a program received by a known protocol. */
export interface ProtocolPass {
  protocol: ProtocolName;
  /** The variable that named them (`MAKEFLAGS`, `LISTEN_FDS`), or `argv`. */
  variable: string;
  fds: number[];
}

/** How one process came to hold a descriptor. */
export type DescriptorVia =
  /** In its table since it was forked: a copy of the parent's descriptor `from`. */
  | 'parent'
  /** Opened (or received over a socket) by this process itself, possibly in an earlier program image. */
  | 'self'
  /** Received by the root from the tracing process (fdscan or the library's caller). */
  | 'ambient';

/** A process of the traced tree: its id in `TraceResult.processes` and its pid. */
export interface ProcessRef {
  process: number;
  pid: number;
}

/** A program a process ran: what it was exec'd as, and its image (/proc/PID/exe). */
export interface ProgramImage {
  argv: string[];
  exe: string;
}

/** The first holder of an open file: the process, and the program it was running when it first held it. */
export interface Holder extends ProcessRef {
  /** The program running in that process when the descriptor first appeared there (absent: fdscan's stub, before the root's first exec). */
  image?: ProgramImage;
  /** The number it had there when it first appeared (absent for ambient descriptors): with `process` and the object, it names one open. */
  fd?: number;
  /**
   * Other processes that shared this process's descriptor table (clone with CLONE_FILES) when the
   * descriptor appeared in it: any of them may have opened it, and the tracer cannot tell which.
   */
  sharedTable?: ProcessRef[];
}

/** Where a descriptor was copied from. */
export interface DescriptorSource {
  /** Index in `processes` of the parent; absent when it is the tracing process (ambient). */
  process?: number;
  pid: number;
  fd: number;
  /**
   * How sure the link is: `kcmp` the kernel confirmed the same open file description at exec;
   * `identity` the same device+inode+type (a guess for anonymous inodes such as eventfd, which
   * share one inode; or when the parent had already exited).
   */
  match: 'kcmp' | 'identity';
}

/** A descriptor seen in a traced process, with its lineage. */
export interface TracedDescriptor extends Descriptor {
  via: DescriptorVia;
  /** For `parent` and `ambient`: the descriptor it is a copy of. */
  from?: DescriptorSource;
  /** The first process of the tree that held this open file (it opened it, or the root received it), and the program it ran then. */
  firstHolder: Holder;
  /** The same object was in the tracing process's table when the trace began (fdscan's environment). */
  ambient?: boolean;
}

/** One exec: what the new program was and exactly what it received. */
export interface ExecRecord {
  /** Order of the event among all events of the trace. */
  seq: number;
  argv: string[];
  /** /proc/PID/exe after the exec. */
  exe: string;
  /**
   * Every descriptor open when the new program started (0, 1, 2 included), by number. With
   * `fullStdio: false` (the gate), 0, 1 and 2 carry only type, target, device and inode.
   */
  received: TracedDescriptor[];
  /** Sampling mode: the table was read some time after the exec, not at it. */
  sampled?: boolean;
  /**
   * The program is setuid, setgid or has file capabilities, and the kernel ran it without that
   * privilege because it was traced by a tracer that may not trace privileged programs.
   */
  unprivileged?: string;
  /**
   * Descriptors the program received by a known protocol that passes them on purpose (make's
   * jobserver, systemd socket activation, ...: descriptor-protocols.ts), read from its environment
   * and argv at the exec. Only these facts are kept, never the environment.
   */
  protocols?: ProtocolPass[];
  /**
   * Set when the table could not be read (not dumpable, out of descriptors, ...): what this program
   * received is unknown, and the gate counts it as unverified.
   */
  error?: string;
}

/** How a process ended. */
export interface ProcessExit {
  seq: number;
  /** Shell convention: the exit code, or 128+N for a death by signal N; absent when unknown (sampling). */
  status?: number;
  code?: number;
  signal?: NodeJS.Signals | string;
  /** Its table just before it exited (ptrace with `exitTables` only; absent when it could not be read). */
  held?: TracedDescriptor[];
}

/** One process of the traced tree (threads are not processes and are not listed). */
export interface TracedProcess {
  /** Index in `TraceResult.processes`; the root is 0. */
  id: number;
  pid: number;
  /** The process that created it; the root's parent is the tracer (`parent` absent). */
  parent?: number;
  ppid: number;
  createdBy: 'spawn' | 'fork' | 'vfork' | 'clone';
  /** Seq of the creation event. */
  seq: number;
  /** Program images this process ran, in order; empty when it exited without exec. */
  execs: ExecRecord[];
  exit?: ProcessExit;
  /**
   * It called ptrace and the kernel refused (EPERM) because fdscan already traces it (`PTRACE_TRACEME`)
   * or the process `target` of the tree (`PTRACE_ATTACH`, `PTRACE_SEIZE`): a debugger or strace
   * that cannot work under the tracer. `program` is what it ran then (absent: fdscan's stub).
   */
  ptraceRefused?: { request: string; target?: number; program?: ProgramImage };
  /**
   * Origins (TraceResult.origins): each call of this process (or of its threads) that made a
   * descriptor inheritable, in order; a number's newest record before an exec is the one that exec received.
   * Read them through OriginIndex: a stack's native frames are only unwound at the stop (object and
   * offset, and an `unnamed` note), and named (function, file, line) when OriginIndex returns them.
   */
  origins?: OriginRecord[];
}

/** One frame of a call stack, innermost first: a native frame, or an interpreter's (Python) frame. */
export interface StackFrame {
  function?: string;
  /** The object file (or, for a Python frame, `python`). */
  object: string;
  /** Offset of the return address in `object`. */
  offset: number;
  file?: string;
  line?: number;
}

/** A call that made a descriptor, or made one inheritable again, as the tracer stopped it. */
export interface OriginCall {
  pid: number;
  /** The program the process ran then (empty: fdscan's stub, before the command's exec). */
  argv: string[];
  syscall: string;
  /** Decoded flags; a missing close-on-exec is named (`without O_CLOEXEC`). */
  flags: string[];
  /** The path asked for (open family); `pathBytes` (base64) when not UTF-8. */
  path?: string;
  pathBytes?: string;
  /** The peer of an accepted socket. */
  peer?: string;
  /** The descriptor number the call left in `pid`. */
  fd: number;
  /** A copy (dup, dup2, dup3, fcntl F_DUPFD): the descriptor it copied. */
  sourceFd?: number;
  /** Innermost first; empty with `stackUnknown` when no stack could be had. */
  stack: StackFrame[];
  /** Why there is no stack: `no-unwinder`, `no-symbols`, ... */
  stackUnknown?: string;
}

/**
 * Where a descriptor came from. The call that made it (the fields of OriginCall), or `unknown`
 * saying in one word why not: `before-trace` (received from outside the tree), `close-on-exec`
 * (made by a call asking for close-on-exec, which runs without a stop), `no-origins` (turned off),
 * `unseen`. `madeInheritable`: the call that later made it inheritable (fcntl F_SETFD, ioctl
 * FIONCLEX, dup2 onto its number, ...).
 */
export type DescriptorOrigin =
  | (OriginCall & { unknown?: undefined; madeInheritable?: OriginCall })
  | { unknown: string; pid?: number; argv?: string[]; madeInheritable?: OriginCall };

/** One record of TracedProcess.origins. */
export interface OriginRecord {
  /** The trace's seq counter when it was made: before every event of seq >= `seq`, after those below. */
  seq: number;
  fd: number;
  /** Inode of the open file right after the call, to check the identity of what an exec received. */
  inode?: number;
  origin: DescriptorOrigin;
}

/** Whether origins were traced, and what they cost. */
export interface OriginTracing {
  /** false: `reason` says why not (`no-origins`: turned off; `sampled`; `unsupported-arch`; an errno). */
  traced: boolean;
  reason?: string;
  /** Seccomp stops taken (one per call that could make an inheritable descriptor). */
  stops: number;
  /**
   * Not data (never serialized): names a stack recorded unnamed (frames with object and offset
   * only, set by the platform's tracer); OriginIndex names each origin it returns with it, so
   * that only the origins a report shows cost a symbol lookup.
   */
  nameStack?: (frames: StackFrame[]) => { frames: StackFrame[] } | { reason: string };
}

/** A fork, exec or exit, in the order the tracer saw them. */
export interface TraceEvent {
  seq: number;
  kind: 'spawn' | 'fork' | 'vfork' | 'clone' | 'exec' | 'exit';
  process: number;
  pid: number;
  /** fork/vfork/clone: the new process. */
  child?: number;
  /**
   * Microseconds since the trace began (a monotonic clock), read when the tracer took the event:
   * at the stop, before it read any table. Absent from results made before tracers recorded it.
   */
  at?: number;
}

/** Everything `traceCommand` learned. */
export interface TraceResult {
  command: string[];
  /**
   * `ptrace` (Linux) and `debug-api` (Windows: every process held at its creation): exact;
   * `sampling`: /proc read periodically, short processes may be missing.
   */
  method: 'ptrace' | 'debug-api' | 'sampling';
  /** The process that traced (fdscan's pid). */
  tracerPid: number;
  /** The root's exit status, shell convention: code, or 128+N for a death by signal N. */
  exitCode: number;
  signal?: NodeJS.Signals | string;
  /** The tracing process's own table when the trace began: the source of `ambient` descriptors. */
  ambient: Descriptor[];
  processes: TracedProcess[];
  events: TraceEvent[];
  /** Things the user must know: fallback to sampling, unreadable tables, processes left running. */
  warnings: string[];
  /** Origins of descriptors (TracedProcess.origins); absent from tracers that do not record them. */
  origins?: OriginTracing;
}
