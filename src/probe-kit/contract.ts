/**
 * The probe contract: everything fdscan needs from an operating system, and the shapes it returns.
 * `src/` reaches OS code only through `src/platform/probe.ts`, which loads the one module of the running
 * platform, `probes/<process.platform>/index.ts`, whose default export is a `Probe`.
 *
 * A probe imports from src/ only the probe kit, src/probe-kit/index.ts: this contract, the typed
 * errors, the trace recorder's shapes and a few pure helpers (test/probes/kit-boundary.test.ts).
 *
 * Porting fdscan to a new platform (as lsof's dialects do, the same files in every folder):
 * - `index.ts`        the Probe object: name, capabilities, and the members below.
 * - `descriptors.ts`  listDescriptors / listDescriptorsOfMany / countDescriptors.
 * - `process-info.ts` processInfo and listPids.
 * - `inheritance.ts`  markAllNonInheritable: the remedy (close-on-exec, HANDLE_FLAG_INHERIT).
 * - `tracer.ts`       the exec tracer, where the platform has one (Linux: ptrace).
 * - one file per native library with its FFI declarations (libc.ts, kernel32.ts, libproc.ts ...),
 *   bound lazily so that importing a probe on another OS loads nothing.
 * - `limits.ts`      descriptorLimits: soft and hard RLIMIT_NOFILE, where the platform tells them.
 * Required: listDescriptors, countDescriptors, processInfo, listPids; listDescriptorsOfMany too where a
 * probe shares work between pids (withCapabilities reads them one by one otherwise).
 * Optional (leave the member out; withCapabilities derives its flag in `capabilities`): sameOpenFile,
 * markAllNonInheritable, restoreReceived, blockingStdio, tracer, descriptorLimits (`limits`), startedWith,
 * tallyDescriptors (`tally`; src/ falls back to listDescriptors), userName and userId (`userNames`),
 * startPassingOnly (`passingOnly`),
 * watchOrigins (`origins`: where the descriptors a running process makes come from).
 *
 * Rules every probe keeps:
 * - Unknown is not false: a field a platform cannot provide is left out of each row, and its
 *   capability is not named in `capabilities`.
 * - A descriptor that fails to read becomes a row with `error`; a whole-process failure is a typed
 *   error from src/errors.ts, mapped once at the probe's edge: the process gone -> NoSuchProcess,
 *   EACCES/EPERM -> AccessDenied, anything else -> OsError naming the call and errno. Nothing
 *   untyped escapes a probe except a bug.
 * - Descriptor numbers are reused at once: a row must describe one object (check identity).
 */
import type { CallerState } from './shell-step.js';
import type { DescriptorOrigin, TraceResult } from './trace-result.js';
import { FdscanError } from '../errors.js';
import type { Descriptor } from './descriptor.js';

export { DESCRIPTOR_TYPES, PEER_LIMIT, type DescriptorType, type AccessMode, type SocketInfo, type PeerHolder, type Descriptor } from './descriptor.js';

/** Soft and hard RLIMIT_NOFILE of a process; `null` is unlimited (RLIM_INFINITY). */
export interface DescriptorLimits {
  soft: number | null;
  hard: number | null;
}

/** The audit of one process: the data `fdscan PID --json` prints. */
export interface ProcessAudit {
  pid: number;
  command: string;
  argv?: string[];
  ppid?: number;
  uid?: number;
  platform: NodeJS.Platform;
  /** Its descriptor limit, where the platform tells it (absent, never guessed, where not). */
  limits?: DescriptorLimits;
  /** The process exited or changed while it was read: `fds` may lack descriptors. */
  incomplete?: boolean;
  zombie?: boolean;
  /** A kernel thread: it has no descriptor table at all (`fds` is empty). */
  kernelThread?: boolean;
  /** The thread id that was asked for, when it named a thread of this process rather than the process. */
  thread?: number;
  /** How many descriptors the process held before a type or inheritability filter chose `fds`. */
  total?: number;
  fds: Descriptor[];
  /** Problems met while reading the process that did not stop the audit. */
  errors: string[];
}

/** One pid's result: its audit, or the typed error that stopped it. The one shape from probe to renderer. */
export type AuditOutcome =
  | { pid: number; audit: ProcessAudit; error?: undefined }
  | { pid: number; error: FdscanError; audit?: undefined };

/** What a probe's rows and listings can tell: the capabilities a probe declares (a field whose capability is false is never set). */
export interface DeclaredCapabilities {
  inheritable: boolean;
  offset: boolean;
  access: boolean;
  flags: boolean;
  sockets: boolean;
  peers: boolean;
  deleted: boolean;
  /** `watches` of epoll descriptors. */
  watches: boolean;
  /** `kernelThread` of processes. */
  kernelThread: boolean;
  /** A thread id is audited as its process, with `thread` set. */
  thread: boolean;
  /** Whether every process of the machine can be listed. */
  allProcesses: boolean;
}

/**
 * What a probe can tell and do. The flags past DeclaredCapabilities each say only that optional
 * members are present (PRESENCE): they are derived from the probe object (withCapabilities),
 * never spelled out by a probe.
 */
export interface ProbeCapabilities extends DeclaredCapabilities {
  /** `sameOpenFile` is present. */
  sameOpenFile: boolean;
  /** `markAllNonInheritable` is present. */
  remedy: boolean;
  /** `tracer` is present. */
  tracer: boolean;
  /**
   * `descriptorLimits` is present. It may still answer undefined for a pid it cannot tell (macOS
   * reads only fdscan's own limit).
   */
  limits: boolean;
  /** `tallyDescriptors` is present (a count by inheritability and type cheaper than a full read). */
  tally: boolean;
  /** `userName` and `userId` are present. */
  userNames: boolean;
  /** `jobControl` is present, and the tracer runs a command as a job of its own when asked (TraceRequest.terminal). */
  jobControl: boolean;
  /** `startPassingOnly` is present: a child can be started with a list of what it receives (Windows' handle list). */
  passingOnly: boolean;
  /** `watchOrigins` is present: a running process can be followed to learn where its new descriptors are made. */
  origins: boolean;
}

export interface ListOptions {
  /** Resolve the other holders of pipes and unix sockets (scans every readable process). */
  peers?: boolean;
  /**
   * The process fields wanted, as lsfd's `-o` (any of PROCESS_FIELD_NAMES); absent: all. The
   * optional ones left out (`argv`, `uid`, `limits`; `command`, `ppid` in JSON) are not read or
   * not given; pid, platform, fds, errors and the marks are always given.
   */
  fields?: readonly string[];
  /**
   * The rows the caller will keep (src/audit/audit.ts's type and inheritability filters, which it
   * applies itself): a probe may skip work for the others, such as naming their peers.
   */
  shown?: (row: Descriptor) => boolean;
}

/** The process fields `fields` may name (fdscan/audit@1's), and those it can leave out. */
export const PROCESS_FIELD_NAMES = ['pid', 'command', 'argv', 'ppid', 'uid', 'platform', 'limits', 'fds', 'errors'] as const;
export const OPTIONAL_PROCESS_FIELDS: readonly string[] = ['command', 'argv', 'ppid', 'uid', 'limits'];

/** Whether `options` asks for the process field `name` (every field when `fields` is absent). */
export function wantsField(options: ListOptions | undefined, name: string): boolean {
  return options?.fields === undefined || options.fields.includes(name);
}

/** Brief facts about a process, enough to name it. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  command: string;
  argv: string[];
  uid?: number;
  /** Run state as ps shows it (R, S, D, T stopped, t traced, Z zombie), where the platform tells. */
  state?: string;
  /** A kernel thread: no descriptor table (Linux; absent elsewhere). */
  kernelThread?: boolean;
}

/** What `tallyDescriptors` should count besides the open descriptors. */
export interface TallyRequest {
  inheritable?: boolean;
  types?: boolean;
  /** `Date.now()` past which the tally gives up with TimeLimitExceeded (a scrape's time limit). */
  deadline?: number;
}

/** Counts of one process's descriptors: what metrics and `top` show, without reading targets. */
export interface DescriptorTally {
  open: number;
  /** Present when asked for. */
  inheritable?: number;
  /** Present when asked for: the number of descriptors of each type (REG, SOCK, eventfd, ...). */
  byType?: Record<string, number>;
}

/** What `markAllNonInheritable` did. */
export interface CloseOnExecResult {
  method: 'close_range' | 'fcntl' | 'SetHandleInformation';
  /** Descriptors left inheritable: 0, 1, 2 and the kept ones that are open. */
  inheritable: number[];
}

/** A process's argv and environment as the bytes it was started with, one Buffer per string. */
export interface StartedWith {
  /** Every argv string, the runtime's own (its path, its options, the script) first. */
  argv: Buffer[];
  /** `NAME=value` entries, in the order given. */
  environment: Buffer[];
}

/** A command to run under the exec tracer. */
export interface TraceRequest {
  /** The command as text, for the record. */
  argv: string[];
  /** The command exactly as it is exec'd: its argv and `NAME=value` environment entries as bytes. */
  exec: { argv: Uint8Array[]; env: Uint8Array[] };
  /** `auto`: the exact method, or sampling with a warning where it is refused. */
  method: 'auto' | 'ptrace' | 'sampling';
  samplingIntervalMs: number;
  /** Stop every process at its exit to read its table (`exit.held`). */
  exitTables: boolean;
  /** What fdscan's caller gave that Node took away (ignored signals, soft descriptor limit): the command gets it back. */
  caller: CallerState;
  /** Read 0, 1 and 2 of each exec in full; without, by identity only (TableReadOptions). */
  fullStdio: boolean;
  /**
   * Record where each descriptor made inheritable in the tree was made (TraceResult.origins), with
   * a seccomp filter that stops only those calls; false (`--no-origins`): no filter, no record.
   */
  origins?: boolean;
  /**
   * Run the command as a job of its own on this terminal (JobControl.terminal): it leads a new
   * process group, given the terminal when fdscan's job holds it. Absent: it stays in fdscan's group.
   */
  terminal?: number;
}

/** What the tracer tells of the job it runs (TraceRequest.terminal). */
export interface TraceJobEvents {
  /** The command's process group exists: `pgid` is the root's pid. */
  started(pgid: number): void;
  /** The root stopped (Ctrl-Z, SIGSTOP, a background read of the terminal): `signal` stopped it. */
  stopped(signal: number): void;
  /**
   * The root exited: the job is over, as a shell sees it, and the terminal goes back to fdscan's
   * job while what the root left running is waited for (a Ctrl-C then reaches fdscan, which
   * forwards it to them).
   */
  ended(): void;
}

/** A running trace. */
export interface TraceSession {
  /** Send signal `signo` to every live process of the traced tree (never to a reused pid). */
  forward(signo: number): void;
  /** Resolves once every process of the tree has exited. */
  readonly result: Promise<TraceResult>;
}

/** Runs a command and records every fork, exec and exit of its tree with the descriptors each exec received. */
export interface ExecTracer {
  /** Start `request.argv` held stopped before its exec, attach, then let it run; `job` hears of its job's stops. */
  trace(request: TraceRequest, job?: TraceJobEvents): TraceSession;
  /**
   * Get ready for a trace() to come: start what takes time (a thread, its modules) while the
   * command line is still being parsed. Harmless when no trace follows; never throws (a failure
   * shows at trace()).
   */
  prepare?(): void;
}

/** What became of a child since it was last asked about. */
export type ChildState =
  | { kind: 'exited'; code: number }
  | { kind: 'killed'; signal: number }
  | { kind: 'stopped'; signal: number }
  | { kind: 'continued' };

/**
 * Terminal job control for a wrapped command, as a shell with job control runs a job: the command
 * leads a process group of its own, the terminal's foreground group while fdscan's job is.
 */
export interface JobControl {
  /**
   * The terminal (0, 1 or 2) of fdscan's session, and whether fdscan leads its process group (a
   * shell with job control started it as a job). Undefined without one.
   */
  terminal(): { fd: number; leader: boolean } | undefined;
  /** The terminal's foreground process group (-1 when it cannot tell). */
  foregroundGroup(terminal: number): number;
  /** Make `pgid` the terminal's foreground group, from the background too; false when refused. */
  setForegroundGroup(terminal: number, pgid: number): boolean;
  /**
   * Start `argv` (environment `env`, `caller` given back as for the tracer) leading a process group
   * of its own, given the terminal before it execs when fdscan's job holds it; returns its pid.
   */
  spawn(argv: readonly Uint8Array[], env: readonly Uint8Array[], caller: CallerState, terminal: number): number;
  /** What became of child `pid` (started by spawn) since last asked; undefined: nothing new. */
  poll(pid: number): ChildState | undefined;
}

/** A command started by Probe.startPassingOnly. */
export interface StartedCommand {
  pid: number;
  /** Its exit code once it has exited, else undefined (never blocks). */
  poll(): number | undefined;
  /** End it (TerminateProcess) with exit code `code`. */
  terminate(code: number): void;
}

/** A running process followed to learn the origin of the descriptors it makes (Probe.watchOrigins). */
export interface OriginWatch {
  /** Resolves once every thread is followed; rejects with a typed error (ptrace refused, no such process). */
  readonly attached: Promise<void>;
  /** The origin of `d` of the watched process as far as it is known now. */
  originOf(d: Descriptor): DescriptorOrigin;
  /** Leave the process exactly as it was (every thread detached); resolves once it is. Idempotent. */
  stop(): Promise<void>;
}

/** The shape every probes/<platform>/index.ts exports as its default. */
export interface Probe {
  name: string;
  platform: NodeJS.Platform;
  capabilities: ProbeCapabilities;
  /** Types this probe names itself beyond DESCRIPTOR_TYPES (macOS KQUEUE, Windows object types, ...). */
  descriptorTypes: readonly string[];
  /** Every descriptor of `pid`. Throws NoSuchProcess, AccessDenied or OsError for the whole process. */
  listDescriptors(pid: number, options?: ListOptions): ProcessAudit;
  /** Several processes at once, sharing what can be shared: one outcome per pid, in order. */
  listDescriptorsOfMany(pids: number[], options?: ListOptions): AuditOutcome[];
  /** Number of open descriptors, as cheaply as the platform allows. */
  countDescriptors(pid: number): number;
  processInfo(pid: number): ProcessInfo;
  /** Pids of every process this probe can see. */
  listPids(): number[];
  /**
   * Do `fdA` of `pidA` and `fdB` of `pidB` name the same open file description (not merely the
   * same file)? Throws a typed error when the kernel cannot tell (a descriptor gone, no permission).
   */
  sameOpenFile?(pidA: number, fdA: number, pidB: number, fdB: number): boolean;
  /** Make every descriptor of this process non-inheritable except 0, 1, 2 and `keep`. */
  markAllNonInheritable?(keep: readonly number[]): CloseOnExecResult;
  /**
   * Make inheritable again the descriptors this process received at its exec that its runtime
   * marked close-on-exec at start-up (Node marks 0-15 and on), so that a wrapped command receives
   * them as fdscan's caller gave them; returns their numbers.
   */
  restoreReceived?(): number[];
  /** Take the list restoreReceived works from now, before fdscan opens anything (a CLI calls it first). */
  noteReceived?(): void;
  /** The exact bytes of this process's argv and environment as it was started (where the OS keeps them). */
  startedWith?(): StartedWith;
  /**
   * Clear O_NONBLOCK on this process's 0, 1 and 2 where the runtime set it (it belongs to the open
   * file description, which a child shares); returns the function that puts it back.
   */
  blockingStdio?(): () => void;
  tracer?: ExecTracer;
  /**
   * Start `argv` passing it only its standard handles and `keep` (Windows: PROC_THREAD_ATTRIBUTE_HANDLE_LIST),
   * where the platform can name what a child receives; elsewhere markAllNonInheritable does it.
   */
  startPassingOnly?(argv: readonly Uint8Array[], env: readonly Uint8Array[], keep: readonly number[]): StartedCommand;
  jobControl?: JobControl;
  /**
   * Follow running process `pid` (every thread, syscall by syscall) until stop(): the descriptors
   * it makes from now on get their origin. Leaves nothing behind: no filter, no signal, no stop.
   */
  watchOrigins?(pid: number): OriginWatch;
  /** Soft and hard RLIMIT_NOFILE of `pid`; undefined where the platform cannot tell for that pid. */
  descriptorLimits?(pid: number): DescriptorLimits | undefined;
  /**
   * Count `pid`'s descriptors, and those inheritable and of each type when asked, reading no more
   * than that needs. A descriptor closed meanwhile is not counted; the process's typed errors as
   * for listDescriptors.
   */
  tallyDescriptors?(pid: number, request: TallyRequest): DescriptorTally;
  /** The name of user `uid` (the system's user database), undefined when it has none. */
  userName?(uid: number): string | undefined;
  /** The uid of the user called `name`, undefined when there is none. */
  userId?(name: string): number | undefined;
}

/** Each capability that only says members are present, and those members (all of them, for true). */
export const PRESENCE = {
  sameOpenFile: ['sameOpenFile'],
  remedy: ['markAllNonInheritable'],
  tracer: ['tracer'],
  limits: ['descriptorLimits'],
  tally: ['tallyDescriptors'],
  userNames: ['userName', 'userId'],
  jobControl: ['jobControl'],
  passingOnly: ['startPassingOnly'],
  origins: ['watchOrigins'],
} as const satisfies { [K in Exclude<keyof ProbeCapabilities, keyof DeclaredCapabilities>]: ReadonlyArray<keyof Probe> };

/**
 * A probe as a platform writes it: the names of the capabilities it has (one left out is false: the
 * platform cannot tell it, and its field is never set); withCapabilities adds the presence flags.
 */
export type ProbeDefinition = Omit<Probe, 'capabilities' | 'listDescriptorsOfMany'> & {
  capabilities: ReadonlyArray<keyof DeclaredCapabilities>;
  listDescriptorsOfMany?: Probe['listDescriptorsOfMany'];
};

/** Every declared capability, false unless a probe names it. */
const CANNOT_TELL: DeclaredCapabilities = {
  inheritable: false, offset: false, access: false, flags: false, sockets: false, peers: false, deleted: false,
  watches: false, kernelThread: false, thread: false, allProcesses: false,
};

/** The Probe of `definition`, each presence capability set from whether its members are there. */
export function withCapabilities(definition: ProbeDefinition): Probe {
  const capabilities = { ...CANNOT_TELL } as ProbeCapabilities;
  for (const name of definition.capabilities) capabilities[name] = true;
  for (const [flag, members] of Object.entries(PRESENCE) as Array<[keyof typeof PRESENCE, ReadonlyArray<keyof Probe>]>) {
    capabilities[flag] = members.every((member) => (definition as unknown as Partial<Probe>)[member] !== undefined);
  }
  const listDescriptorsOfMany = definition.listDescriptorsOfMany ?? ((pids: number[]) => auditEach(pids, (pid) => definition.listDescriptors(pid)));
  return { ...definition, listDescriptorsOfMany, capabilities };
}

/** listDescriptorsOfMany for a probe that shares nothing between pids; a bug (not an FdscanError) is thrown. */
export function auditEach(pids: number[], audit: (pid: number) => ProcessAudit): AuditOutcome[] {
  return pids.map((pid) => {
    try {
      return { pid, audit: audit(pid) };
    } catch (error) {
      if (!(error instanceof FdscanError)) throw error;
      return { pid, error };
    }
  });
}
