/**
 * What the gate finds and concludes: the shapes of a finding (an open file leaked to execs, a
 * self-re-executing process that grows) and of the verdict, shared by the analysis
 * (gate-analysis.ts), the baseline, the outcome and the reports, none of which imports another for them.
 */
import type { Descriptor } from '../probe-kit/contract.js';
import type { DescriptorOrigin, DescriptorSource, DescriptorVia, TracedDescriptor } from '../probe-kit/trace-result.js';
import type { ProtocolName } from '../trace/descriptor-protocols.js';
import type { FixHint } from './fix-hints.js';

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
  /**
   * Where it was made (the call, its flags, the stack), as the first receiver's exec received it;
   * or in one word why unknown. Absent when origins were turned off (--no-origins).
   */
  origin?: DescriptorOrigin;
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
  /** Where each of `descriptors` was made (same order); absent with --no-origins. */
  origins?: DescriptorOrigin[];
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
