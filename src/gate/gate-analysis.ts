/**
 * The gate's verdict on a trace: which open files leaked to which execs, and which self-re-executing
 * processes (the auto-reloader pattern) hold more descriptors at every cycle.
 *
 * One open file leaked to many execs is one finding listing its receivers. An open file is named
 * by its lineage: the process that first held it, the number it had there, and the object
 * (objectKey); or, when it reached the receiver through a process that had received it by a
 * protocol (descriptor-protocols.ts) and passed it on, by that process instead, which is where the
 * fix belongs.
 */
import type { Descriptor } from '../probe-contract.js';
import type { DescriptorSource, DescriptorVia, ExecRecord, TraceResult, TracedDescriptor, TracedProcess } from '../trace/trace-result.js';
import type { ProtocolName } from '../trace/descriptor-protocols.js';
import { allowedBy, type AllowRule } from './allow-list.js';
import { descriptorKey, objectKey } from '../descriptor-identity.js';
import { growthFix, leakFix, type FixHint } from './fix-hints.js';
import { programName } from './baseline.js';
import { gateOutcome } from './gate-outcome.js';
import { OriginIndex } from '../trace/origins.js';
import type { DescriptorOrigin } from '../trace/trace-result.js';

/** A process of the tree, named for a report. */
export interface GateProcess {
  process: number;
  pid: number;
  argv: string[];
}

/** An exec that received a descriptor: the program, and the number it received it at. */
export interface GateReceiver extends GateProcess {
  /** The program's image (/proc/PID/exe). */
  exe: string;
  fd: number;
  via: DescriptorVia;
  /** The descriptor of its parent (or of fdscan) it is a copy of. */
  from?: DescriptorSource;
}

/** The process that first held a descriptor, named by the program it ran then. */
export interface GateOpener extends GateProcess {
  /** That program's image (/proc/PID/exe), when known. */
  exe?: string;
  /** The program the same process ran when the descriptor was received, when it had exec'd since. */
  execdSince?: string[];
  /** It did not open the descriptor: it received it by this protocol and passed it on to programs that were not meant to get it. */
  receivedBy?: ProtocolName;
  /** Pids of the processes that shared its descriptor table (clone with CLONE_FILES) then: any of them may have opened it instead. */
  sharedTable?: number[];
}

/** An exec whose table could not be read: what it received is unknown, so the gate cannot pass it. */
export interface UnverifiedExec {
  receiver: GateProcess;
  exe: string;
  /** Why: `cannot read /proc/42/fd: EACCES (not dumpable: ...)`. */
  reason: string;
}

/** One open file beyond 0, 1, 2, opened inside the tree and received by one exec or more. */
export interface InheritedLeak {
  kind: 'inherited';
  /** Its number in the opener (in the first receiver when the opener's is unknown). */
  fd: number;
  type: string;
  target: string;
  /** The process that opened it (the first of the tree to hold it), named by the program that ran then. */
  opener: GateOpener;
  /** Every exec that received it, in the order they happened. */
  receivers: GateReceiver[];
  fix: FixHint;
  /** Set by the baseline (baseline.ts): every receiver of this finding is in it, so it does not fail the gate. */
  baselined?: boolean;
  /** The first receiver's row (for renderers: exact bytes of the target). */
  descriptor: TracedDescriptor;
  /** Where it was made (the call, its flags, the stack), as the first receiver's exec received it; or in one word why unknown. */
  origin: DescriptorOrigin;
}

/** A process that exec()s itself again and again and holds more descriptors each time. */
export interface ReexecGrowth {
  kind: 'reexec-growth';
  process: GateProcess;
  exe: string;
  /** Descriptors beyond 0, 1, 2 (not ambient, not allowed, not passed by protocol) held at each exec of the chain, in order. */
  held: number[];
  /** Increase per cycle, like CPython's `leaked [1, 1, 1] file descriptors`. */
  leakedPerCycle: number[];
  /** The descriptors the last exec held that the first did not. */
  descriptors: TracedDescriptor[];
  fix: FixHint;
  baselined?: boolean;
}

export type GateFinding = InheritedLeak | ReexecGrowth;

/** One open file and the execs that received it, for what the gate lets through. */
export interface ReceivedGroup {
  fd: number;
  type: string;
  target: string;
  receivers: GateReceiver[];
  descriptor: TracedDescriptor;
}

/** What an allow rule let through; `spec` names the rule. */
export interface AllowedGroup extends ReceivedGroup {
  spec: string;
}

/** Descriptors received by a known protocol (make's jobserver, socket activation, ...): never blamed. */
export interface ProtocolGroup extends ReceivedGroup {
  protocol: ProtocolName;
  /** The environment variable (or `argv`) that named them. */
  variable: string;
}

/** What `gate` concluded. */
export interface GateVerdict {
  findings: GateFinding[];
  /** Descriptors fdscan itself received and passed on: reported, never blamed. */
  ambient: Descriptor[];
  /** Descriptors that would have been findings but an allow rule matched. */
  allowed: AllowedGroup[];
  /** Descriptors passed on purpose by a known protocol. */
  protocol: ProtocolGroup[];
  /** Execs whose tables could not be read: the gate fails closed on them unless told otherwise. */
  unverified: UnverifiedExec[];
  /** Set when the whole trace is inexact (the sampling fallback can miss execs entirely). */
  inexact?: string;
}

const STDIO = 3;

/** Whether the gate passes without options: no finding outside the baseline, nothing unverified, an exact trace (gateOutcome says why). */
export function verdictPassed(verdict: GateVerdict): boolean {
  return gateOutcome(verdict).passed;
}

/** Judge a trace against the allow rules. */
export function judgeTrace(trace: TraceResult, rules: AllowRule[]): GateVerdict {
  const verdict: GateVerdict = { findings: [], ambient: [], allowed: [], protocol: [], unverified: [] };
  if (trace.method !== 'ptrace') verdict.inexact = 'the tree was sampled, not traced: a process shorter than the sampling interval can be missed';
  const ambientSeen = new Set<string>();
  const leaks = new Map<string, InheritedLeak>();
  const allowed = new Map<string, AllowedGroup>();
  const passed = new Map<string, ProtocolGroup>();
  const receipts = protocolReceipts(trace);
  const growths: ReexecGrowth[] = [];
  const origins = new OriginIndex(trace);
  for (const p of trace.processes) {
    const chain = selfReexecChain(p);
    p.execs.forEach((exec, index) => {
      const program: GateProcess = { process: p.id, pid: p.pid, argv: exec.argv };
      if (exec.error) verdict.unverified.push({ receiver: program, exe: exec.exe, reason: exec.error });
      const byProtocol = protocolOf(exec);
      for (const d of exec.received) {
        if (d.fd < STDIO) continue;
        if (d.ambient) {
          const key = `${d.fd}:${d.target}`;
          if (!ambientSeen.has(key)) { ambientSeen.add(key); verdict.ambient.push(stripLineage(d)); }
          continue;
        }
        const receiver = receiverOf(program, exec, d);
        const pass = byProtocol.get(d.fd);
        if (pass) {
          addTo(passed, `${pass.protocol}|${originKey(d)}`, receiver, () => ({ ...group(d, receiver), protocol: pass.protocol, variable: pass.variable }));
          continue;
        }
        const rule = allowedBy(rules, d, exec);
        if (rule) {
          addTo(allowed, `${rule.spec}|${originKey(d)}`, receiver, () => ({ ...group(d, receiver), spec: rule.spec }));
          continue;
        }
        // A reloader's own descriptors kept across its re-exec are judged by their growth below.
        if (index > 0 && chain.has(index) && d.firstHolder.process === p.id) continue;
        const passer = passedOnBy(trace, receipts, p, d, exec.seq);
        const key = passer ? `passed|${passer.opener.process}|${objectKey(d)}` : originKey(d);
        addTo(leaks, key, receiver, () => {
          const opener = passer?.opener ?? openerOf(trace, d, exec.seq);
          const fd = passer?.fd ?? d.firstHolder.fd ?? d.fd;
          const origin = origins.at(p.id, d.fd, exec.seq, d.inode);
          return { kind: 'inherited', ...group(d, receiver), fd, opener, fix: leakFix(opener, heldAt(opener, receiver, fd)), origin };
        });
      }
    });
    const growth = reexecGrowth(trace, p, chain, rules);
    if (growth) growths.push(growth);
  }
  verdict.findings = [...leaks.values(), ...growths];
  verdict.allowed = [...allowed.values()];
  verdict.protocol = [...passed.values()];
  return verdict;
}

/**
 * The number the opener held the descriptor at when it let it reach `receiver`: the one a fix
 * names. A shell that opens a pipe at 4 and moves it to 5 (`exec 5< <(...)`) must close 5.
 */
function heldAt(opener: GateOpener, receiver: GateReceiver, openedAt: number): number {
  if (receiver.process === opener.process) return receiver.fd;
  if (receiver.from?.process === opener.process) return receiver.from.fd;
  return openedAt;
}

/** The open file `d` is a copy of: first holder, its number there, and the object. */
function originKey(d: TracedDescriptor): string {
  return `${d.firstHolder.process}|${d.firstHolder.fd ?? ''}|${objectKey(d)}`;
}

function group(d: TracedDescriptor, receiver: GateReceiver): ReceivedGroup {
  return { fd: d.fd, type: d.type, target: d.target, receivers: [receiver], descriptor: d };
}

/** Add `receiver` to the group at `key`, made by `create` (which lists it first) when new. */
function addTo<G extends { receivers: GateReceiver[] }>(groups: Map<string, G>, key: string, receiver: GateReceiver, create: () => G): void {
  const existing = groups.get(key);
  if (existing) existing.receivers.push(receiver);
  else groups.set(key, create());
}

function receiverOf(program: GateProcess, exec: ExecRecord, d: TracedDescriptor): GateReceiver {
  return { ...program, exe: exec.exe, fd: d.fd, via: d.via, ...(d.from ? { from: d.from } : {}) };
}

/** The protocol each descriptor number of `exec` came by. */
function protocolOf(exec: ExecRecord): Map<number, { protocol: ProtocolName; variable: string }> {
  const byFd = new Map<number, { protocol: ProtocolName; variable: string }>();
  for (const pass of exec.protocols ?? []) for (const fd of pass.fds) if (!byFd.has(fd)) byFd.set(fd, pass);
  return byFd;
}

/** A process that received objects by protocol: at which exec, which object, at which number. */
interface Receipt {
  exec: ExecRecord;
  object: string;
  fd: number;
  protocol: ProtocolName;
}

function protocolReceipts(trace: TraceResult): Map<number, Receipt[]> {
  const receipts = new Map<number, Receipt[]>();
  for (const p of trace.processes) {
    for (const exec of p.execs) {
      for (const pass of exec.protocols ?? []) {
        for (const fd of pass.fds) {
          const d = exec.received.find((row) => row.fd === fd);
          if (!d || d.ambient) continue;
          const list = receipts.get(p.id) ?? [];
          list.push({ exec, object: objectKey(d), fd, protocol: pass.protocol });
          receipts.set(p.id, list);
        }
      }
    }
  }
  return receipts;
}

/**
 * The process of `p`'s ancestry (itself included) that received `d`'s object by protocol (before
 * `seq`, the exec that now holds `d`) and passed it on to `p`, if any: it, not the opener, let it
 * reach a program that was not meant to get it.
 */
function passedOnBy(trace: TraceResult, receipts: Map<number, Receipt[]>, p: TracedProcess, d: TracedDescriptor, seq: number): { opener: GateOpener; fd: number } | undefined {
  if (receipts.size === 0) return undefined;
  const object = objectKey(d);
  // `before`: the program of q that counts is the last one before the exec (for p) or the fork (for its ancestors).
  let before = seq;
  for (let q: TracedProcess | undefined = p; q; before = q.seq, q = q.parent === undefined ? undefined : trace.processes[q.parent]) {
    const receipt = receipts.get(q.id)?.findLast((r) => r.object === object && r.exec.seq < before);
    if (receipt) {
      return { opener: { process: q.id, pid: q.pid, argv: receipt.exec.argv, exe: receipt.exec.exe, receivedBy: receipt.protocol }, fd: receipt.fd };
    }
    // The opener itself is as far as the descriptor goes back.
    if (q.id === d.firstHolder.process) break;
  }
  return undefined;
}

/**
 * Indexes of execs that re-ran the same program as the exec before (same pid, same exe, and for an
 * interpreter the same script or `-c` code), with that first one. A shell script that ends in
 * `exec sh -c '...'` runs another program in the same interpreter: what it passes on is a leak, not a
 * reloader's growth.
 */
function selfReexecChain(p: TracedProcess): Set<number> {
  const chain = new Set<number>();
  for (let i = 1; i < p.execs.length; i++) {
    if (sameProgram(p.execs[i]!, p.execs[i - 1]!)) { chain.add(i - 1); chain.add(i); }
  }
  return chain;
}

function sameProgram(a: ExecRecord, b: ExecRecord): boolean {
  return a.exe === b.exe && programName(a.argv, a.exe) === programName(b.argv, b.exe);
}

function reexecGrowth(trace: TraceResult, p: TracedProcess, chain: Set<number>, rules: AllowRule[]): ReexecGrowth | undefined {
  // The longest run of consecutive execs of one program, as [start, end) (a copy per exec would be
  // quadratic in a chain of thousands).
  let [bestStart, bestEnd, start] = [0, 0, 0];
  p.execs.forEach((exec, i) => {
    if (!chain.has(i)) { start = i + 1; return; }
    if (i > start && !sameProgram(p.execs[i - 1]!, exec)) start = i;
    if (i + 1 - start > bestEnd - bestStart) [bestStart, bestEnd] = [start, i + 1];
  });
  const best = p.execs.slice(bestStart, bestEnd);
  if (best.length < 2) return undefined;
  const counted = (exec: ExecRecord): TracedDescriptor[] => {
    const byProtocol = protocolOf(exec);
    return exec.received.filter((d) => d.fd >= STDIO && !d.ambient && !byProtocol.has(d.fd) && !allowedBy(rules, d, exec));
  };
  const held = best.map((exec) => counted(exec).length);
  const leakedPerCycle = held.slice(1).map((n, i) => n - held[i]!);
  if (held[held.length - 1]! <= held[0]! || !leakedPerCycle.some((n) => n > 0)) return undefined;
  const first = new Set(counted(best[0]!).map(descriptorKey));
  const last = best[best.length - 1]!;
  const descriptors = counted(last).filter((d) => !first.has(descriptorKey(d)));
  return {
    kind: 'reexec-growth', process: nameOf(trace, p, last.seq), exe: last.exe, held, leakedPerCycle, descriptors,
    fix: growthFix(last, descriptors.map((d) => d.fd)),
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
  if (holder.sharedTable) opener.sharedTable = holder.sharedTable.map((p) => p.pid);
  return opener;
}

function stripLineage(d: TracedDescriptor): Descriptor {
  const { via: _via, from: _from, firstHolder: _first, ambient: _ambient, ...rest } = d;
  return rest;
}
