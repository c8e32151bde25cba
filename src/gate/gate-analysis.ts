/**
 * The gate's verdict on a trace: which open files leaked to which execs, and which self-re-executing
 * processes (the auto-reloader pattern) hold more descriptors at every cycle.
 *
 * One open file leaked to many execs is one finding listing its receivers. An open file is named
 * by its lineage: the process that first held it, the number it had there, and the object
 * (objectKey); or, when it reached the receiver through a process that had received it by a
 * protocol (descriptor-protocols.ts) and passed it on, by that process instead, which is where the
 * fix belongs.
 *
 * What becomes of each received descriptor is decided by RECEIPT_RULES, one table evaluated by one
 * loop (judgeTrace): the first rule that applies files it (ambient, protocol, allowed, a finding) or
 * lets it be; its place in the table is its precedence.
 */
import type { Descriptor } from '../probe-kit/contract.js';
import type { ExecRecord, TraceResult, TracedDescriptor, TracedProcess } from '../probe-kit/trace-result.js';
import type { ProtocolName } from '../trace/descriptor-protocols.js';
import { allowedBy, type AllowRule } from './allow-list.js';
import { descriptorKey, objectKey } from '../audit/descriptor-identity.js';
import { growthFix, leakFix } from './fix-hints.js';
import { programName } from './program-name.js';
import type { AllowedGroup, GateOpener, GateProcess, GateReceiver, GateVerdict, InheritedLeak, ProtocolGroup, ReceivedGroup, ReexecGrowth } from './gate-finding.js';
import { gateOutcome } from './gate-outcome.js';
import { OriginIndex } from '../trace/origins.js';

/** Whether the gate passes without options: no finding outside the baseline, nothing unverified, an exact trace (gateOutcome says why). */
export function verdictPassed(verdict: GateVerdict): boolean {
  return gateOutcome(verdict).passed;
}

/** The protocol a descriptor number came by, and the variable that named it. */
export interface ProtocolUse {
  protocol: ProtocolName;
  variable: string;
}

/** What a rule sees besides the descriptor: the exec that received it and where that exec stands. */
export interface ReceiptContext {
  trace: TraceResult;
  process: TracedProcess;
  exec: ExecRecord;
  /** The exec's place among its process's execs, and the places of its self-re-exec chain (selfReexecChain). */
  index: number;
  chain: Set<number>;
  /** --allow and the configuration's allow list. */
  allow: AllowRule[];
  /** The protocol each descriptor number of the exec came by. */
  protocols: Map<number, ProtocolUse>;
  /** Who received by protocol what, for the leak rule's passer (passedOnBy). */
  receipts: Map<number, Receipt[]>;
  origins: OriginIndex;
}

/**
 * Where a rule files what it takes: one of the verdict's lists, under `key` (a second descriptor with
 * the same key adds its receiver to the first one's group); or `undefined`: taken, filed nowhere.
 */
export type Filing =
  | { into: 'ambient'; key: string; make: () => Descriptor }
  | { into: 'protocol'; key: string; make: () => ProtocolGroup }
  | { into: 'allowed'; key: string; make: () => AllowedGroup }
  | { into: 'findings'; key: string; make: () => InheritedLeak }
  | undefined;

/**
 * One of the gate's rules on a received descriptor. The first rule of the table that applies
 * decides (its place is its precedence); `M` is what it found (the protocol, the allow rule).
 */
export interface ReceiptRule<M = unknown> {
  name: string;
  /** One line for the docs: what the rule takes and what becomes of it. */
  doc: string;
  /** Whether what it takes counts among what a self-re-executing program holds (its growth). */
  counted: boolean;
  /** What it found, or undefined when it does not apply to `d`. */
  applies(d: TracedDescriptor, context: ReceiptContext): M | undefined;
  /** Where `d` goes in the verdict, made for `receiver`. */
  file(d: TracedDescriptor, match: M, context: ReceiptContext, receiver: GateReceiver): Filing;
}

const STDIO = 3;

/** The rule `rule` typed for the table (each rule's match type is its own). */
function rule<M>(r: ReceiptRule<M>): ReceiptRule {
  return r as ReceiptRule;
}

/** The gate's rules on received descriptors, in order of precedence: the first that applies decides. */
export const RECEIPT_RULES: readonly ReceiptRule[] = [
  rule<true>({
    name: 'stdio', doc: 'descriptors 0, 1 and 2 are every program\'s own: never judged', counted: false,
    applies: (d) => (d.fd < STDIO ? true : undefined),
    file: () => undefined,
  }),
  rule<true>({
    name: 'ambient', doc: 'what fdscan itself received and passed on: reported once each, never blamed', counted: false,
    applies: (d) => (d.ambient ? true : undefined),
    file: (d) => ({ into: 'ambient', key: `${d.fd}:${d.target}`, make: () => stripLineage(d) }),
  }),
  rule<ProtocolUse>({
    name: 'protocol', doc: 'passed on purpose by a known protocol (descriptor-protocols.ts): grouped per protocol and open file, never blamed', counted: false,
    applies: (d, c) => c.protocols.get(d.fd),
    file: (d, pass, _c, receiver) => ({
      into: 'protocol', key: `${pass.protocol}|${originKey(d)}`, make: () => ({ ...group(d, receiver), protocol: pass.protocol, variable: pass.variable }),
    }),
  }),
  rule<AllowRule>({
    name: 'allow', doc: 'matched by an allow rule (--allow, the configuration): grouped per rule and open file, let through', counted: false,
    applies: (d, c) => allowedBy(c.allow, d, c.exec),
    file: (d, allow, _c, receiver) => ({ into: 'allowed', key: `${allow.spec}|${originKey(d)}`, make: () => ({ ...group(d, receiver), spec: allow.spec }) }),
  }),
  rule<true>({
    // Judged by the chain's growth (reexecGrowth), not one by one.
    name: 'reexec-kept', doc: 'a self-re-executing program\'s own descriptor kept across its re-exec: counted towards its growth, not a leak', counted: true,
    applies: (d, c) => (c.index > 0 && c.chain.has(c.index) && d.firstHolder.process === c.process.id ? true : undefined),
    file: () => undefined,
  }),
  rule<true>({
    name: 'leak', doc: 'anything else: a leak, one finding per open file (named by its opener, or by the program that passed it on) listing its receivers', counted: true,
    applies: () => true,
    file: (d, _match, c, receiver) => {
      const passer = passedOnBy(c.trace, c.receipts, c.process, d, c.exec.seq);
      return {
        into: 'findings', key: passer ? `passed|${passer.opener.process}|${objectKey(d)}` : originKey(d),
        make: () => {
          const opener = passer?.opener ?? openerOf(c.trace, d, c.exec.seq);
          const fd = passer?.fd ?? d.firstHolder.fd ?? d.fd;
          const leak: InheritedLeak = { kind: 'inherited', ...group(d, receiver), fd, opener, fix: leakFix(opener, heldAt(opener, receiver, fd)) };
          if (c.trace.origins) leak.origin = c.origins.at(c.process.id, d.fd, c.exec.seq, d.inode);
          return leak;
        },
      };
    },
  }),
];

/** The first rule of `rules` that applies to `d`, with what it found. */
function firstRule(rules: readonly ReceiptRule[], d: TracedDescriptor, context: ReceiptContext): { rule: ReceiptRule; match: unknown } | undefined {
  for (const r of rules) {
    const match = r.applies(d, context);
    if (match !== undefined) return { rule: r, match };
  }
  return undefined;
}

/** Judge a trace against the allow rules, each received descriptor by the first of `rules` that applies. */
export function judgeTrace(trace: TraceResult, allow: AllowRule[], rules: readonly ReceiptRule[] = RECEIPT_RULES): GateVerdict {
  const verdict: GateVerdict = { findings: [], ambient: [], allowed: [], protocol: [], unverified: [] };
  if (trace.method === 'sampling') verdict.inexact = 'the tree was sampled, not traced: a process shorter than the sampling interval can be missed';
  const filed = { ambient: new Map<string, unknown>(), protocol: new Map<string, unknown>(), allowed: new Map<string, unknown>(), findings: new Map<string, unknown>() };
  const receipts = protocolReceipts(trace);
  const origins = new OriginIndex(trace);
  const growths: ReexecGrowth[] = [];
  for (const p of trace.processes) {
    const chain = selfReexecChain(p);
    const contextOf = (exec: ExecRecord, index: number): ReceiptContext =>
      ({ trace, process: p, exec, index, chain, allow, protocols: protocolOf(exec), receipts, origins });
    p.execs.forEach((exec, index) => {
      const program: GateProcess = { process: p.id, pid: p.pid, argv: exec.argv };
      if (exec.error) verdict.unverified.push({ receiver: program, exe: exec.exe, reason: exec.error });
      const context = contextOf(exec, index);
      for (const d of exec.received) {
        const found = firstRule(rules, d, context);
        if (!found) continue;
        const receiver = receiverOf(program, exec, d);
        const filing = found.rule.file(d, found.match, context, receiver);
        if (!filing) continue;
        const groups = filed[filing.into];
        const existing = groups.get(filing.key) as { receivers?: GateReceiver[] } | undefined;
        if (existing) existing.receivers?.push(receiver);
        else groups.set(filing.key, filing.make());
      }
    });
    // What a rule counts towards growth: the descriptors a program of the chain is to blame for.
    const counted = (exec: ExecRecord, index: number): TracedDescriptor[] => {
      const context = contextOf(exec, index);
      return exec.received.filter((d) => firstRule(rules, d, context)?.rule.counted === true);
    };
    const growth = reexecGrowth(trace, p, chain, counted, origins);
    if (growth) growths.push(growth);
  }
  verdict.findings = [...filed.findings.values() as Iterable<InheritedLeak>, ...growths];
  verdict.allowed = [...filed.allowed.values() as Iterable<AllowedGroup>];
  verdict.protocol = [...filed.protocol.values() as Iterable<ProtocolGroup>];
  verdict.ambient = [...filed.ambient.values() as Iterable<Descriptor>];
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

function receiverOf(program: GateProcess, exec: ExecRecord, d: TracedDescriptor): GateReceiver {
  return { ...program, exe: exec.exe, fd: d.fd, via: d.via, ...(d.from ? { from: d.from } : {}) };
}

/** The protocol each descriptor number of `exec` came by. */
function protocolOf(exec: ExecRecord): Map<number, ProtocolUse> {
  const byFd = new Map<number, ProtocolUse>();
  for (const pass of exec.protocols ?? []) for (const fd of pass.fds) if (!byFd.has(fd)) byFd.set(fd, pass);
  return byFd;
}

/** A process that received objects by protocol: at which exec, which object, at which number. */
export interface Receipt {
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

function reexecGrowth(trace: TraceResult, p: TracedProcess, chain: Set<number>, countedAt: (exec: ExecRecord, index: number) => TracedDescriptor[], origins: OriginIndex): ReexecGrowth | undefined {
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
  const held = best.map((exec, i) => countedAt(exec, bestStart + i).length);
  const leakedPerCycle = held.slice(1).map((n, i) => n - held[i]!);
  if (held[held.length - 1]! <= held[0]! || !leakedPerCycle.some((n) => n > 0)) return undefined;
  const first = new Set(countedAt(best[0]!, bestStart).map(descriptorKey));
  const last = best[best.length - 1]!;
  const descriptors = countedAt(last, bestEnd - 1).filter((d) => !first.has(descriptorKey(d)));
  const growth: ReexecGrowth = {
    kind: 'reexec-growth', process: nameOf(trace, p, last.seq), exe: last.exe, held, leakedPerCycle, descriptors,
    fix: growthFix(last, descriptors.map((d) => d.fd)),
  };
  if (trace.origins) growth.origins = descriptors.map((d) => origins.at(p.id, d.fd, last.seq, d.inode));
  return growth;
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
