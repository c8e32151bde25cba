/**
 * Builds a TraceResult from the events a tracer sees (ptrace or sampling): keeps each live
 * process's last known table so every new table can be matched against it (lineage.ts).
 * Platform-neutral: a platform's tracer runs it (in its tracer thread) with a ProcessReader that
 * reads tables while the traced process is stopped.
 */
import type { Descriptor } from '../probe-kit/contract.js';
import { shellStatus, signalName } from '../probe-kit/exit-status.js';
import { objectKey } from '../audit/descriptor-identity.js';
import { OsError } from '../errors.js';
import { ambientTable, inheritAtFork, resolveTable, type DescriptionCheck } from './lineage.js';
import { isProtocolVariable, protocolPasses, type ProtocolPass } from './descriptor-protocols.js';
import { SharedValues } from './shared-values.js';
import type {
  DescriptorOrigin, ExecRecord, Holder, OriginCall, OriginRecord, OriginTracing, ProcessExit, ProgramImage, StackFrame, TraceEvent,
  TracedDescriptor, TracedProcess, TraceResult,
} from '../probe-kit/trace-result.js';
import type { CallStack, MadeCall, ProcessReader, RecordedStack, TableRead, TableReadOptions, TraceRecorder as Recorder } from '../probe-kit/recorder.js';

export type { CallStack, MadeCall, ProcessReader, RecordedStack, TableRead, TableReadOptions } from '../probe-kit/recorder.js';

/** Errnos that say fdscan itself is out of descriptors: no table of the trace could be read. */
const OWN_LIMITS = new Set(['EMFILE', 'ENFILE']);

/** A fork's table is only matched against later ones, never shown: identities are enough. */
const FORK_TABLE: TableReadOptions = { identityBelow: Number.POSITIVE_INFINITY, targets: false };
const FULL_TABLE: TableReadOptions = { identityBelow: 0, targets: true };
const STDIO = 3;


interface LiveProcess {
  record: TracedProcess;
  table: TracedDescriptor[];
  /** The program it runs now: its parent's until its first exec (undefined: fdscan's stub). */
  image?: ProgramImage;
  /** The processes sharing one descriptor table with it (clone with CLONE_FILES), itself included: one array for all of them. */
  tableSharers?: TableSharer[];
}

/** A process that shares (or shared, until it exited) a descriptor table; `left` once it exec'd (an exec gives it a table of its own). */
interface TableSharer {
  process: LiveProcess;
  pid: number;
  left: boolean;
}

/** Accumulates processes and events; `live` is keyed by pid (a pid names one live process). */
export class TraceRecorder implements Recorder {
  readonly processes: TracedProcess[] = [];
  readonly events: TraceEvent[] = [];
  readonly warnings: string[] = [];
  readonly ambient: Descriptor[];
  private readonly live = new Map<number, LiveProcess>();
  /** kcmp, to tell two opens of one file apart (lineage.ts). */
  private readonly check: DescriptionCheck;
  private seq = 0;
  /** When the trace began (process.hrtime, nanoseconds): TraceEvent.at counts from here. */
  private readonly started = process.hrtime.bigint();
  /** Each distinct row, table and image once: what execs received and ran is kept for the whole trace. */
  private readonly shared = new SharedValues();
  /** How each exec's table is read: 0, 1 and 2 by identity only unless `fullStdio`. */
  private readonly execTable: TableReadOptions;
  /** Whether origins are traced (set by the platform's tracer) and the stops they took. */
  originTracing?: OriginTracing;
  /** Each process's origin records by number, in order (TracedProcess.origins, indexed). */
  private readonly originsByFd = new Map<number, Map<number, OriginRecord[]>>();

  /**
   * `handles`: Windows, where a new process receives only its creator's inheritable handles, at
   * the same values (spawned()); `exec`: every open descriptor crosses fork and exec.
   */
  private readonly inheritance: 'exec' | 'handles';

  constructor(readonly command: string[], readonly tracerPid: number, private readonly reader: ProcessReader, options: { fullStdio?: boolean; inheritance?: 'exec' | 'handles' } = {}) {
    this.execTable = options.fullStdio === false ? { identityBelow: STDIO, targets: true } : FULL_TABLE;
    this.inheritance = options.inheritance ?? 'exec';
    const own = reader.table(tracerPid);
    // Out of descriptors before anything is traced: every exec would be unverified. Said as one
    // line before CMD starts, as when the tracer thread itself cannot start.
    if (own.errno && OWN_LIMITS.has(own.errno)) throw new OsError("read fdscan's own descriptor table", own.errno);
    this.ambient = own.rows;
    if (own.error) this.warnings.push(`fdscan's own table: ${own.error}`);
    const ambientFds = new Map<string, number[]>();
    for (const d of own.rows) ambientFds.set(objectKey(d), [...(ambientFds.get(objectKey(d)) ?? []), d.fd]);
    this.check = { same: reader.sameOpenFile, tracerPid, ambientFds: (identity) => ambientFds.get(identity) ?? [] };
  }

  /** The root, just started by the tracer: its table is a copy of the tracer's. */
  addRoot(pid: number): TracedProcess {
    const record = this.newProcess(pid, this.tracerPid, undefined, 'spawn', this.now());
    // On Windows only the tracer's inheritable handles can reach the root.
    const ambient = this.inheritance === 'handles' ? this.ambient.filter((d) => d.inheritable === true) : this.ambient;
    this.live.set(pid, { record, table: ambientTable(ambient, this.tracerPid, { process: record.id, pid }) });
    return record;
  }

  /**
   * Windows: `childPid` was just created by `parentPid` (CreateProcess) and is held before it runs
   * its own code. Creation is fork and exec at once: the child received the handles of its creator
   * that were inheritable, at the same values, naming the same objects. A handle of the child that
   * is not inheritable in it was made by its own start-up (wine's loader opens a few), never received.
   * The root (already added) is recorded by calling this with the tracer's pid.
   */
  spawned(parentPid: number, childPid: number, options: { sampled?: boolean } = {}): TracedProcess | undefined {
    const at = this.now();
    let child = this.live.get(childPid);
    const parent = this.live.get(parentPid);
    if (!child && !parent) {
      // Created by a process outside the tree (PROC_THREAD_ATTRIBUTE_PARENT_PROCESS names another
      // parent): it received that process's inheritable handles, which fdscan did not follow.
      // Unverified, never passed.
      const root = this.processes[0];
      const record = this.newProcess(childPid, parentPid, root?.id, 'spawn', at);
      this.live.set(childPid, { record, table: [] });
      this.exec(childPid, {
        at,
        creation: { process: undefined, pid: parentPid },
        error: `created on behalf of pid ${parentPid}, which is not in the traced tree: what it received from that process is unknown`,
      });
      return record;
    }
    if (!child) {
      if (!parent) return undefined;
      const read = this.reader.table(parentPid);
      if (read.error) this.warnings.push(`pid ${parentPid} when it created pid ${childPid}: ${read.error}`);
      parent.table = this.shared.table(resolveTable(read.rows, parent.table, holder(parent, parentPid), this.check));
      const record = this.newProcess(childPid, parentPid, parent.record.id, 'spawn', at);
      child = { record, table: inheritAtFork(parent.table.filter((d) => d.inheritable === true), { process: parent.record.id, pid: parentPid }), image: parent.image };
      this.live.set(childPid, child);
    }
    this.exec(childPid, {
      at,
      creation: child.record.parent === undefined ? { process: undefined, pid: this.tracerPid } : { process: child.record.parent, pid: child.record.ppid },
      ...(options.sampled ? { sampled: true } : {}),
    });
    return child.record;
  }

  isLive(pid: number): boolean {
    return this.live.has(pid);
  }

  livePids(): number[] {
    return [...this.live.keys()];
  }

  /** `parentPid` created `childPid`: read the parent's table now (the child's is the same copy). */
  fork(parentPid: number, childPid: number, kind: 'fork' | 'vfork' | 'clone'): TracedProcess | undefined {
    const parent = this.live.get(parentPid);
    if (!parent) return undefined;
    const at = this.now();
    const read = this.reader.table(parentPid, FORK_TABLE);
    parent.table = resolveTable(read.rows, parent.table, holder(parent, parentPid), this.check);
    const record = this.newProcess(childPid, parentPid, parent.record.id, kind, at);
    const child: LiveProcess = { record, table: inheritAtFork(parent.table, { process: parent.record.id, pid: parentPid }), image: parent.image };
    this.live.set(childPid, child);
    // Both are stopped: kcmp tells whether the child shares the parent's table rather than a copy
    // (clone(CLONE_FILES) without CLONE_THREAD; the kernel reports it as a fork when its exit signal is SIGCHLD).
    if (this.reader.sameTable?.(parentPid, childPid) === true) {
      parent.tableSharers ??= [{ process: parent, pid: parentPid, left: false }];
      parent.tableSharers.push({ process: child, pid: childPid, left: false });
      child.tableSharers = parent.tableSharers;
    }
    if (read.error) this.warnings.push(`pid ${parentPid} at fork: ${read.error}`);
    return record;
  }

  /** `pid` just exec'd (it is stopped): record exactly what the new program received. */
  exec(pid: number, options: { sampled?: boolean; creation?: { process: number | undefined; pid: number }; error?: string; at?: number } = {}): void {
    const process = this.live.get(pid);
    if (!process) return;
    // Taken before the table is read: the time of the stop, not of fdscan's work on it.
    const at = options.at ?? this.now();
    const read = this.reader.table(pid, this.execTable);
    // What is new in the table now was opened by the program that ran before this exec.
    process.table = this.shared.table(resolveTable(read.rows, process.table, holder(process, pid), this.check));
    if (options.creation) process.table = receivedAtCreation(process.table, options.creation, process.record);
    // The exec gave it a table of its own: nothing the others open from now on reaches it.
    const sharer = process.tableSharers?.find((s) => s.process === process);
    if (sharer) sharer.left = true;
    process.tableSharers = undefined;
    const image = this.shared.image({ argv: this.reader.argv(pid), exe: this.reader.exe(pid) });
    process.image = image;
    const dropped = options.sampled ? undefined : this.reader.droppedPrivilege?.(pid);
    if (dropped) {
      this.warnings.push(`pid ${pid} ran ${image.exe} without its ${dropped}: the kernel ignores setuid, setgid and file capabilities of a traced program unless the tracer may trace privileged ones (root); it may fail or behave otherwise than untraced`);
    }
    const protocols = this.protocols(pid, image.argv, process.table);
    const seq = this.nextSeq();
    const exec: ExecRecord = {
      seq,
      argv: image.argv,
      exe: image.exe,
      received: process.table,
      ...(options.sampled ? { sampled: true } : {}),
      ...(dropped ? { unprivileged: dropped } : {}),
      ...(protocols.length > 0 ? { protocols } : {}),
      ...(options.error ?? read.error ? { error: options.error ?? read.error } : {}),
    };
    // An array literal holds exactly its elements; the first push onto [] reserves room for 17.
    if (process.record.execs.length === 0) process.record.execs = [exec];
    else process.record.execs.push(exec);
    this.events.push({ seq, kind: 'exec', process: process.record.id, pid, at });
  }

  /**
   * `pid` called ptrace (`request`, of `target`) and the kernel refused it (EPERM) because fdscan
   * is already the tracer of `pid` or of `target`: the program cannot do under fdscan what it does bare.
   */
  ptraceRefused(pid: number, request: string, target?: number): void {
    const process = this.live.get(pid);
    if (!process || process.record.ptraceRefused) return;
    const program = process.image;
    process.record.ptraceRefused = { request, ...(target !== undefined ? { target } : {}), ...(program ? { program } : {}) };
    const call = `ptrace(${request}${target !== undefined ? `, ${target}` : ''})`;
    this.warnings.push(`pid ${pid} (${program?.exe ?? "fdscan's stub"}): ${call} failed with EPERM: fdscan is ${target !== undefined ? `the tracer of pid ${target}` : 'its tracer'}`);
  }

  /**
   * `pid` (one of its threads) made descriptors inheritable with `call`, whose stack is `stack`:
   * record where each was made. A call that made an existing open file inheritable (F_SETFD,
   * FIONCLEX, a dup) keeps where that file was made, from this process's records or its ancestors'.
   */
  made(pid: number, call: MadeCall, stack: RecordedStack): void {
    const process = this.live.get(pid);
    if (!process) return;
    const self = (fd: number): OriginCall => ({
      pid,
      argv: process.image?.argv ?? [],
      syscall: call.syscall,
      flags: this.shared.strings(call.flags),
      ...(call.path !== undefined ? { path: call.path } : {}),
      ...(call.pathBytes !== undefined ? { pathBytes: call.pathBytes } : {}),
      ...(call.peer !== undefined ? { peer: call.peer } : {}),
      fd,
      ...(call.sourceFd !== undefined ? { sourceFd: call.sourceFd } : {}),
      stack: 'frames' in stack ? this.shared.frames(stack.frames) : 'unnamed' in stack ? this.shared.frames(stack.unnamed) : [],
      ...('reason' in stack ? { stackUnknown: stack.reason } : {}),
    });
    call.fds.forEach((fd, i) => {
      let origin: DescriptorOrigin;
      if (call.madeInheritable) {
        // The newest record of the number, if it is still the same open file (numbers are reused at once).
        const latest = this.latestOrigin(process.record, call.sourceFd ?? fd);
        const inode = call.inodes?.[i];
        const prior = latest && (latest.inode === undefined || inode === undefined || latest.inode === inode) ? latest.origin : undefined;
        const { madeInheritable: _earlier, ...made } = prior ?? { unknown: call.wasCloseOnExec ? 'close-on-exec' : 'before-trace' };
        origin = { ...made, madeInheritable: self(fd) } as DescriptorOrigin;
      } else {
        origin = self(fd);
      }
      const inode = call.inodes?.[i];
      let byFd = this.originsByFd.get(process.record.id);
      if (!byFd) this.originsByFd.set(process.record.id, (byFd = new Map()));
      const list = byFd.get(fd);
      const last = list?.[list.length - 1];
      if (last && last.seq === this.seq) {
        // No fork or exec since the number's last record: nothing can ever look that one up.
        last.origin = origin;
        if (inode !== undefined) last.inode = inode;
        else delete last.inode;
        return;
      }
      const record: OriginRecord = { seq: this.seq, fd, origin };
      if (inode !== undefined) record.inode = inode;
      (process.record.origins ??= []).push(record);
      if (list) list.push(record);
      else byFd.set(fd, [record]);
    });
  }

  /** The newest origin of number `fd` in `process` now: its own, else its parent's at the fork, and so on. */
  private latestOrigin(process: TracedProcess, fd: number): OriginRecord | undefined {
    let at: TracedProcess | undefined = process;
    let limit = Number.POSITIVE_INFINITY;
    while (at) {
      const list = this.originsByFd.get(at.id)?.get(fd);
      if (list) {
        for (let i = list.length - 1; i >= 0; i--) if (list[i]!.seq <= limit) return list[i];
      }
      limit = at.seq;
      at = at.parent === undefined ? undefined : this.processes[at.parent];
    }
    return undefined;
  }

  /** `pid` is about to exit (PTRACE_EVENT_EXIT): its table is still there to read. */
  exiting(pid: number): void {
    const process = this.live.get(pid);
    if (!process) return;
    const read = this.reader.table(pid);
    if (read.error) return;
    process.table = this.shared.table(resolveTable(read.rows, process.table, holder(process, pid), this.check));
    process.record.exit = { seq: -1, held: process.table };
  }

  /** `pid` is gone; `code`/`signal` from its wait status when known. */
  exited(pid: number, code: number | undefined, signal: number | undefined): TracedProcess | undefined {
    const process = this.live.get(pid);
    if (!process) return undefined;
    const at = this.now();
    this.live.delete(pid);
    const seq = this.nextSeq();
    const exit: ProcessExit = { seq };
    if (code !== undefined || signal !== undefined) exit.status = shellStatus(code, signal);
    if (code !== undefined && signal === undefined) exit.code = code;
    if (signal !== undefined) exit.signal = signalName(signal);
    if (process.record.exit?.held) exit.held = process.record.exit.held;
    process.record.exit = exit;
    this.events.push({ seq, kind: 'exit', process: process.record.id, pid, at });
    return process.record;
  }

  /** The finished result; `exitCode` is the root's. */
  result(method: TraceResult['method'], exitCode: number, signal: number | undefined): TraceResult {
    const result: TraceResult = {
      command: this.command,
      method,
      tracerPid: this.tracerPid,
      exitCode,
      ambient: this.ambient,
      processes: this.processes,
      events: this.events,
      warnings: [...this.warnings, ...this.reader.problems()],
    };
    if (signal !== undefined) result.signal = signalName(signal);
    if (this.originTracing) result.origins = this.originTracing;
    return result;
  }

  /** Descriptors `pid` received by a known protocol; its environment is read only when it received something beyond 0, 1, 2 from the tree. */
  private protocols(pid: number, argv: string[], received: TracedDescriptor[]): ProtocolPass[] {
    if (this.reader.startupPasses) {
      const passes = this.reader.startupPasses(pid, received);
      const env = this.reader.environment?.(pid, isProtocolVariable);
      return env ? [...passes, ...protocolPasses(env, argv, pid, received)] : passes;
    }
    if (!received.some((d) => d.fd > 2 && !d.ambient)) return [];
    const env = this.reader.environment?.(pid, isProtocolVariable) ?? new Map<string, string>();
    return protocolPasses(env, argv, pid, received);
  }

  private newProcess(pid: number, ppid: number, parent: number | undefined, createdBy: TracedProcess['createdBy'], at: number): TracedProcess {
    const seq = this.nextSeq();
    const record: TracedProcess = { id: this.processes.length, pid, ppid, createdBy, seq, execs: [] };
    if (parent !== undefined) record.parent = parent;
    this.processes.push(record);
    this.events.push({ seq, kind: createdBy, process: parent ?? record.id, pid: parent === undefined ? pid : ppid, ...(parent === undefined ? {} : { child: record.id }), at });
    return record;
  }

  /** Microseconds since the trace began: one clock read per event, a few tens of nanoseconds. */
  private now(): number {
    return Number(process.hrtime.bigint() - this.started) / 1000;
  }

  private nextSeq(): number {
    return this.seq++;
  }
}

/**
 * What a Windows process received at its creation: its inheritable handles (inherited handles
 * keep HANDLE_FLAG_INHERIT). One the resolution tied to its creator's handle at the same value is
 * kept as it is (`kcmp` when NtCompareObjects confirmed the same object); one tied to nothing, or
 * to another value, was still received (nothing else runs in the child before this read) from a
 * handle the creator has closed since: named as the creator's, at that value, by identity only.
 */
function receivedAtCreation(table: TracedDescriptor[], creator: { process: number | undefined; pid: number }, child: TracedProcess): TracedDescriptor[] {
  return table.filter((d) => d.inheritable === true).map((d) => {
    if (d.via !== 'self' && d.from?.fd === d.fd) return d;
    const row = Object.assign({}, d);
    row.via = creator.process === undefined ? 'ambient' : 'parent';
    row.from = creator.process === undefined ? { pid: creator.pid, fd: d.fd, match: 'identity' } : { process: creator.process, pid: creator.pid, fd: d.fd, match: 'identity' };
    row.firstHolder = creator.process === undefined ? { process: child.id, pid: child.pid } : { process: creator.process, pid: creator.pid, fd: d.fd };
    if (creator.process === undefined) row.ambient = true;
    return row;
  });
}

/**
 * `process` as the holder of what is new in its table now: with the program it runs. When it
 * shares its table, any sharer may have opened it: the first of them (the one that made the
 * shared table) is named, with the others in `sharedTable`, whichever process's read found it,
 * so that one open file has one holder.
 */
function holder(process: LiveProcess, pid: number): Holder {
  const sharers = process.tableSharers?.filter((s) => !s.left);
  const [named, ...others] = sharers && sharers.length > 1 ? sharers : [{ process, pid }];
  const { record, image } = named!.process;
  const found: Holder = image ? { process: record.id, pid: named!.pid, image } : { process: record.id, pid: named!.pid };
  if (others.length > 0) found.sharedTable = others.map((s) => ({ process: s.process.record.id, pid: s.pid }));
  return found;
}
