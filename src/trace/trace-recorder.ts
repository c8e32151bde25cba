/**
 * Builds a TraceResult from the events a tracer sees (ptrace or sampling): keeps each live
 * process's last known table so every new table can be matched against it (lineage.ts).
 * Runs in the tracer worker; reads /proc synchronously while the process is stopped.
 */
import { readlinkSync } from 'node:fs';
import { constants } from 'node:os';
import type { Descriptor } from '../probe-contract.js';
import { errnoOf } from '../errors.js';
import { newAuditContext, readDescriptors } from '../../probes/linux/descriptors.js';
import { readArgv } from '../../probes/linux/process-info.js';
import { sameOpenFile } from '../../probes/linux/libc.js';
import { ambientTable, identityOf, inheritAtFork, resolveTable, type DescriptionCheck } from './lineage.js';
import type { ProcessExit, TraceEvent, TracedDescriptor, TracedProcess, TraceResult } from './trace-result.js';

/** Shell convention for a wait status: the code, or 128+N for a death by signal N. */
export function shellStatus(code: number | undefined, signal: number | undefined): number {
  return signal !== undefined ? 128 + signal : (code ?? 0);
}

/** Name of signal number `n` (SIGTERM), or its number as text when Node does not know it. */
export function signalName(n: number): string {
  const entry = Object.entries(constants.signals).find(([, value]) => value === n);
  return entry ? entry[0] : String(n);
}

interface LiveProcess {
  record: TracedProcess;
  table: TracedDescriptor[];
}

/** Accumulates processes and events; `live` is keyed by pid (a pid names one live process). */
export class TraceRecorder {
  readonly processes: TracedProcess[] = [];
  readonly events: TraceEvent[] = [];
  readonly warnings: string[] = [];
  readonly ambient: Descriptor[];
  private readonly live = new Map<number, LiveProcess>();
  private readonly context = newAuditContext({ peers: false });
  /** kcmp, to tell two opens of one file apart (lineage.ts). */
  private readonly check: DescriptionCheck;
  private seq = 0;

  constructor(readonly command: string[], readonly tracerPid: number) {
    const own = readDescriptors(tracerPid, this.context);
    this.ambient = own.rows;
    if (own.error) this.warnings.push(`fdscan's own table: ${own.error}`);
    const ambientFds = new Map<string, number[]>();
    for (const d of own.rows) ambientFds.set(identityOf(d), [...(ambientFds.get(identityOf(d)) ?? []), d.fd]);
    this.check = { same: sameOpenFile, tracerPid, ambientFds: (identity) => ambientFds.get(identity) ?? [] };
  }

  /** The root, just started by the tracer: its table is a copy of the tracer's. */
  addRoot(pid: number): TracedProcess {
    const record = this.newProcess(pid, this.tracerPid, undefined, 'spawn');
    this.live.set(pid, { record, table: ambientTable(this.ambient, this.tracerPid, { process: record.id, pid }) });
    return record;
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
    const read = readDescriptors(parentPid, this.context);
    parent.table = resolveTable(read.rows, parent.table, { process: parent.record.id, pid: parentPid }, this.check);
    const record = this.newProcess(childPid, parentPid, parent.record.id, kind);
    this.live.set(childPid, { record, table: inheritAtFork(parent.table, { process: parent.record.id, pid: parentPid }) });
    if (read.error) this.warnings.push(`pid ${parentPid} at fork: ${read.error}`);
    return record;
  }

  /** `pid` just exec'd (it is stopped): record exactly what the new program received. */
  exec(pid: number, options: { sampled?: boolean } = {}): void {
    const process = this.live.get(pid);
    if (!process) return;
    const read = readDescriptors(pid, this.context);
    process.table = resolveTable(read.rows, process.table, { process: process.record.id, pid }, this.check);
    let exe = '';
    try { exe = readlinkSync(`/proc/${pid}/exe`); } catch (error) { exe = `(unreadable: ${errnoOf(error) ?? 'error'})`; }
    const seq = this.nextSeq();
    process.record.execs.push({
      seq,
      argv: readArgv(pid),
      exe,
      received: process.table,
      ...(options.sampled ? { sampled: true } : {}),
      ...(read.error ? { error: read.error } : {}),
    });
    this.events.push({ seq, kind: 'exec', process: process.record.id, pid });
  }

  /** `pid` is about to exit (PTRACE_EVENT_EXIT): its table is still there to read. */
  exiting(pid: number): void {
    const process = this.live.get(pid);
    if (!process) return;
    const read = readDescriptors(pid, this.context);
    if (read.error) return;
    process.table = resolveTable(read.rows, process.table, { process: process.record.id, pid }, this.check);
    process.record.exit = { seq: -1, held: process.table };
  }

  /** `pid` is gone; `code`/`signal` from its wait status when known. */
  exited(pid: number, code: number | undefined, signal: number | undefined): TracedProcess | undefined {
    const process = this.live.get(pid);
    if (!process) return undefined;
    this.live.delete(pid);
    const seq = this.nextSeq();
    const exit: ProcessExit = { seq };
    if (code !== undefined || signal !== undefined) exit.status = shellStatus(code, signal);
    if (code !== undefined && signal === undefined) exit.code = code;
    if (signal !== undefined) exit.signal = signalName(signal);
    if (process.record.exit?.held) exit.held = process.record.exit.held;
    process.record.exit = exit;
    this.events.push({ seq, kind: 'exit', process: process.record.id, pid });
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
      warnings: [...this.warnings, ...this.context.sockets.problems],
    };
    if (signal !== undefined) result.signal = signalName(signal);
    return result;
  }

  private newProcess(pid: number, ppid: number, parent: number | undefined, createdBy: TracedProcess['createdBy']): TracedProcess {
    const seq = this.nextSeq();
    const record: TracedProcess = { id: this.processes.length, pid, ppid, createdBy, seq, execs: [] };
    if (parent !== undefined) record.parent = parent;
    this.processes.push(record);
    this.events.push({ seq, kind: createdBy, process: parent ?? record.id, pid: parent === undefined ? pid : ppid, ...(parent === undefined ? {} : { child: record.id }) });
    return record;
  }

  private nextSeq(): number {
    return this.seq++;
  }
}
