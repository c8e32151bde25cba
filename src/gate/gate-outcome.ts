/**
 * The gate's outcome, decided once: whether it passed, the exit status, and every reason behind
 * them. The CLI's exit status and every report (text, JSON, JUnit, GitHub annotations) show this,
 * so that they cannot disagree.
 *
 * A new reason is one more entry in `REASONS`: its kind, whether an option lets it through, the exit
 * status it asks for, and the line the reports print.
 */
import type { GateVerdict } from './gate-finding.js';
import { EXIT_ERROR, EXIT_FINDING, EXIT_OK } from '../exit-codes.js';

/** What the gate was told to let through. */
export interface OutcomeOptions {
  /** --allow-unverified: unverified execs and a sampled trace are reported but do not fail the gate. */
  allowUnverified?: boolean;
  /** The wrapped command's exit status: when not 0 it is the gate's too (the command's failure passes through). */
  commandExitCode?: number;
  /** The line naming a program whose ptrace call was refused because fdscan is its tracer (render/ptrace-refusal-text.ts). */
  ptraceRefusal?: string;
  /** --allow-ptrace: judge the tree anyway; the refusal is reported, not failed on. */
  allowPtrace?: boolean;
}

/** One thing the gate found that fails it, or that it was told to let through. */
export interface OutcomeReason {
  kind: 'ptrace' | 'findings' | 'unverified' | 'inexact';
  /** Whether it fails the gate; false when an option let it through (`allowedBy` names the option). */
  fails: boolean;
  allowedBy?: string;
  /** The exit status it asks for when it fails; the first failing reason's wins. */
  exitStatus: number;
  /** How many things it counts (findings, execs); 1 for a whole-trace reason. */
  count: number;
  /**
   * The command's own failure does not pass through it: the tracer made the command fail (a ptrace
   * call refused), so its status says nothing of the command bare.
   */
  overridesCommand?: boolean;
  /** One line for the reports, without a trailing period. */
  summary: string;
}

/** What the gate concluded: every renderer and the exit status take it from here. */
export interface GateOutcome {
  passed: boolean;
  /** The command's own status when it failed, else the first failing reason's, else 0. */
  exitStatus: number;
  /** In order of precedence: findings (1), then unverified execs and inexact traces (2). */
  reasons: OutcomeReason[];
}

/** Each reason: how to see it in a verdict, and what it asks for. In order of precedence. */
const REASONS: Array<(verdict: GateVerdict, options: OutcomeOptions) => OutcomeReason | undefined> = [
  (_verdict, options) => (options.ptraceRefusal === undefined ? undefined : {
    kind: 'ptrace', ...allowed(options.allowPtrace, '--allow-ptrace'), exitStatus: EXIT_ERROR, overridesCommand: true, count: 1,
    summary: options.ptraceRefusal,
  }),
  (verdict) => {
    const fresh = verdict.findings.filter((f) => !f.baselined).length;
    return fresh === 0 ? undefined : {
      kind: 'findings', fails: true, exitStatus: EXIT_FINDING, count: fresh,
      summary: `${fresh} ${fresh === 1 ? 'finding' : 'findings'} not in the baseline`,
    };
  },
  (verdict, options) => {
    const n = verdict.unverified.length;
    return n === 0 ? undefined : {
      kind: 'unverified', ...allowed(options.allowUnverified, '--allow-unverified'), exitStatus: EXIT_ERROR, count: n,
      summary: `${n} ${n === 1 ? 'exec' : 'execs'} unverified: ${n === 1 ? 'its table' : 'their tables'} could not be read`,
    };
  },
  (verdict, options) => (verdict.inexact === undefined ? undefined : {
    kind: 'inexact', ...allowed(options.allowUnverified, '--allow-unverified'), exitStatus: EXIT_ERROR, count: 1,
    summary: `unverified: ${verdict.inexact}`,
  }),
];

function allowed(allow: boolean | undefined, option: string): { fails: boolean; allowedBy?: string } {
  return allow ? { fails: false, allowedBy: option } : { fails: true };
}

/** The gate's outcome for `verdict` (with its baseline applied) under `options`. */
export function gateOutcome(verdict: GateVerdict, options: OutcomeOptions = {}): GateOutcome {
  const reasons = REASONS.map((reason) => reason(verdict, options)).filter((r): r is OutcomeReason => r !== undefined);
  const failing = reasons.find((r) => r.fails);
  const command = options.commandExitCode ?? 0;
  const exitStatus = failing?.overridesCommand || command === 0 ? failing?.exitStatus ?? EXIT_OK : command;
  return { passed: failing === undefined, exitStatus, reasons };
}
