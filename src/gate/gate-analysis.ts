/**
 * The gate's verdict on a trace: which descriptors leaked to which exec, and which self-re-executing
 * processes (the auto-reloader pattern) hold more descriptors at every cycle.
 */
import type { Descriptor } from '../probe-contract.js';
import type { ExecRecord, TraceResult, TracedDescriptor, TracedProcess } from '../trace/trace-result.js';
import { allowedBy, type AllowRule } from './allow-list.js';
import { descriptorKey } from '../descriptor-identity.js';

/** A process of the tree, named for a report. */
export interface GateProcess {
  process: number;
  pid: number;
  argv: string[];
}

/** The process that first held a descriptor, named by the program it ran then. */
export interface GateOpener extends GateProcess {
  /** That program's image (/proc/PID/exe), when known. */
  exe?: string;
  /** The program the same process ran when the descriptor was received, when it had exec'd since. */
  execdSince?: string[];
}

/** An exec whose table could not be read: what it received is unknown, so the gate cannot pass it. */
export interface UnverifiedExec {
  receiver: GateProcess;
  exe: string;
  /** Why: `cannot read /proc/42/fd: EACCES (not dumpable: ...)`. */
  reason: string;
}

/** A descriptor beyond 0, 1, 2 opened inside the tree and received by an exec. */
export interface InheritedLeak {
  kind: 'inherited';
  fd: number;
  type: string;
  target: string;
  /** The program that received it. */
  receiver: GateProcess;
  /** The process that opened it (the first of the tree to hold it), named by the program that ran then. */
  opener: GateOpener;
  descriptor: TracedDescriptor;
}

/** A process that exec()s itself again and again and holds more descriptors each time. */
export interface ReexecGrowth {
  kind: 'reexec-growth';
  process: GateProcess;
  exe: string;
  /** Descriptors beyond 0, 1, 2 (not ambient, not allowed) held at each exec of the chain, in order. */
  held: number[];
  /** Increase per cycle, like CPython's `leaked [1, 1, 1] file descriptors`. */
  leakedPerCycle: number[];
  /** The descriptors the last exec held that the first did not. */
  descriptors: TracedDescriptor[];
}

export type GateFinding = InheritedLeak | ReexecGrowth;

/** What `gate` concluded. */
export interface GateVerdict {
  findings: GateFinding[];
  /** Descriptors fdscan itself received and passed on: reported, never blamed. */
  ambient: Descriptor[];
  /** Descriptors that would have been findings but an allow rule matched: `spec` names it. */
  allowed: Array<{ fd: number; target: string; receiver: GateProcess; spec: string }>;
  /** Execs whose tables could not be read: the gate fails closed on them unless told otherwise. */
  unverified: UnverifiedExec[];
  /** Set when the whole trace is inexact (the sampling fallback can miss execs entirely). */
  inexact?: string;
}

const STDIO = 3;

/** Judge a trace against the allow rules. */
export function judgeTrace(trace: TraceResult, rules: AllowRule[]): GateVerdict {
  const verdict: GateVerdict = { findings: [], ambient: [], allowed: [], unverified: [] };
  if (trace.method !== 'ptrace') verdict.inexact = 'the tree was sampled, not traced: a process shorter than the sampling interval can be missed';
  const ambientSeen = new Set<string>();
  for (const p of trace.processes) {
    const chain = selfReexecChain(p);
    p.execs.forEach((exec, index) => {
      const receiver = nameOf(trace, p, exec.seq);
      if (exec.error) verdict.unverified.push({ receiver, exe: exec.exe, reason: exec.error });
      for (const d of exec.received) {
        if (d.fd < STDIO) continue;
        if (d.ambient) {
          const key = `${d.fd}:${d.target}`;
          if (!ambientSeen.has(key)) { ambientSeen.add(key); verdict.ambient.push(stripLineage(d)); }
          continue;
        }
        const rule = allowedBy(rules, d, exec);
        if (rule) { verdict.allowed.push({ fd: d.fd, target: d.target, receiver, spec: rule.spec }); continue; }
        // A reloader's own descriptors kept across its re-exec are judged by their growth below.
        if (index > 0 && chain.has(index) && d.firstHolder.process === p.id) continue;
        verdict.findings.push({
          kind: 'inherited', fd: d.fd, type: d.type, target: d.target, receiver,
          opener: openerOf(trace, d, exec.seq), descriptor: d,
        });
      }
    });
    const growth = reexecGrowth(trace, p, chain, rules);
    if (growth) verdict.findings.push(growth);
  }
  return verdict;
}

/** Indexes of execs that re-ran the same program as the exec before (same pid, same exe), with that first one. */
function selfReexecChain(p: TracedProcess): Set<number> {
  const chain = new Set<number>();
  for (let i = 1; i < p.execs.length; i++) {
    if (p.execs[i]!.exe === p.execs[i - 1]!.exe) { chain.add(i - 1); chain.add(i); }
  }
  return chain;
}

function reexecGrowth(trace: TraceResult, p: TracedProcess, chain: Set<number>, rules: AllowRule[]): ReexecGrowth | undefined {
  // The longest run of consecutive execs of one exe.
  let best: ExecRecord[] = [];
  let run: ExecRecord[] = [];
  p.execs.forEach((exec, i) => {
    if (!chain.has(i) || (run.length > 0 && run[run.length - 1]!.exe !== exec.exe)) run = [];
    if (chain.has(i)) run.push(exec);
    if (run.length > best.length) best = [...run];
  });
  if (best.length < 2) return undefined;
  const counted = (exec: ExecRecord): TracedDescriptor[] =>
    exec.received.filter((d) => d.fd >= STDIO && !d.ambient && !allowedBy(rules, d, exec));
  const held = best.map((exec) => counted(exec).length);
  const leakedPerCycle = held.slice(1).map((n, i) => n - held[i]!);
  if (held[held.length - 1]! <= held[0]! || !leakedPerCycle.some((n) => n > 0)) return undefined;
  const first = new Set(counted(best[0]!).map(descriptorKey));
  const last = best[best.length - 1]!;
  return {
    kind: 'reexec-growth', process: nameOf(trace, p, last.seq), exe: last.exe, held, leakedPerCycle,
    descriptors: counted(last).filter((d) => !first.has(descriptorKey(d))),
  };
}


/** The process with the argv of the program it was running at `seq` (its first program if later). */
function nameOf(trace: TraceResult, p: TracedProcess, seq: number): GateProcess {
  const current = [...p.execs].reverse().find((e) => e.seq <= seq) ?? p.execs[0];
  const argv = current?.argv ?? (p.parent !== undefined ? nameOf(trace, trace.processes[p.parent]!, p.seq).argv : trace.command);
  return { process: p.id, pid: p.pid, argv };
}

/** Who opened `d`: the first holder with the program it ran then; and what that process ran at `seq`, if it exec'd since. */
function openerOf(trace: TraceResult, d: TracedDescriptor, seq: number): GateOpener {
  const holder = d.firstHolder;
  const now = nameOf(trace, trace.processes[holder.process]!, seq);
  if (!holder.image) return now;
  const opener: GateOpener = { process: holder.process, pid: holder.pid, argv: holder.image.argv, exe: holder.image.exe };
  if (now.argv.join('\0') !== holder.image.argv.join('\0')) opener.execdSince = now.argv;
  return opener;
}

function stripLineage(d: TracedDescriptor): Descriptor {
  const { via: _via, from: _from, firstHolder: _first, ambient: _ambient, ...rest } = d;
  return rest;
}
