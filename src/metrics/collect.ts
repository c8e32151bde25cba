/**
 * One reading of the selected processes for the metrics exposition: open descriptors, soft limit,
 * inheritable count and, on request, counts per type, per process or summed per command. Bounded
 * by a deadline: what is not read by then is counted as skipped, and what was read is kept.
 */
import type { DescriptorTally, ProcessInfo } from '../probe-kit/contract.js';
import { AccessDenied, NoSuchProcess, TimeLimitExceeded } from '../errors.js';
import { probeFor } from '../platform/probe.js';
import { selectProcesses, userLabel, type Selection } from '../audit/selection.js';
import { tallyDescriptors } from '../audit/tally.js';
import { usageOf } from '../audit/top.js';
import { renderExposition } from './exposition.js';
import type { CommandReading, MetricsReading, ProcessReading } from './reading.js';

export type { CommandReading, MetricsReading, ProcessReading };

export interface MetricsOptions extends Selection {
  /** Count descriptors per type (a read per descriptor). */
  byType?: boolean;
  /** Count inheritable descriptors (default true; a read per descriptor). */
  inheritable?: boolean;
  /** One series per process (default), or per command and user: fewer series on busy machines. */
  per?: 'pid' | 'command';
  /** `Date.now()` past which the reading stops: the processes not read yet are counted as skipped. */
  deadline?: number;
}

/** The selected processes (default: every process) as OpenMetrics text, `# EOF` last. */
export function openMetrics(options: MetricsOptions = {}): string {
  return renderExposition(collectMetrics(options), 'openmetrics');
}

/** Read the selected processes (default: every process). Bad selection: UsageError; nothing else is fatal. */
export function collectMetrics(options: MetricsOptions = {}): MetricsReading {
  const started = process.hrtime.bigint();
  const probe = probeFor();
  const inheritable = options.inheritable !== false && probe.capabilities.inheritable;
  const selected = selectProcesses(options);
  const reading: MetricsReading = { per: options.per ?? 'pid', processes: [], commands: [], unreadable: selected.unreadable, skipped: 0, durationSeconds: 0 };
  const pids = selected.pids;
  for (let i = 0; i < pids.length; i++) {
    if (options.deadline !== undefined && Date.now() > options.deadline) {
      reading.skipped = pids.length - i;
      break;
    }
    const pid = pids[i]!;
    try {
      const sample = readProcess(pid, selected.info.get(pid), { inheritable, byType: options.byType === true, deadline: options.deadline });
      if (sample.denied) reading.unreadable++;
      if (sample.reading) reading.processes.push(sample.reading);
    } catch (error) {
      if (error instanceof TimeLimitExceeded) {
        reading.skipped = pids.length - i;
        break;
      }
      if (error instanceof AccessDenied) reading.unreadable++;
      else if (!(error instanceof NoSuchProcess)) throw error;
    }
  }
  if (reading.per === 'command') reading.commands = sumPerCommand(reading.processes);
  reading.durationSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  return reading;
}

interface Wanted {
  inheritable: boolean;
  byType: boolean;
  deadline?: number;
}

/**
 * One process. When its descriptors cannot be read (another user's, as non-root), what every user
 * may read is kept (the count and the limit, on Linux 6.2+) and it is `denied`.
 */
function readProcess(pid: number, known: ProcessInfo | undefined, wanted: Wanted): { reading?: ProcessReading; denied: boolean } {
  const probe = probeFor();
  const info = known ?? probe.processInfo(pid);
  // A kernel thread has no descriptor table: ~60 series of zeros on a machine, left out.
  if (info.kernelThread) return { denied: false };
  const limits = probe.descriptorLimits?.(pid);
  let denied = false;
  let tally: DescriptorTally;
  try {
    tally = tallyDescriptors(pid, { inheritable: wanted.inheritable, types: wanted.byType, deadline: wanted.deadline });
  } catch (error) {
    if (!(error instanceof AccessDenied) || (!wanted.inheritable && !wanted.byType)) throw error;
    denied = true;
    tally = tallyDescriptors(pid);
  }
  const reading: ProcessReading = { pid, command: info.command, user: userLabel(info.uid) ?? '', open: tally.open };
  if (limits) reading.limits = limits;
  if (tally.inheritable !== undefined) reading.inheritable = tally.inheritable;
  if (tally.byType) reading.byType = tally.byType;
  return { reading, denied };
}

/** Sums per command and user, in the order first met. */
function sumPerCommand(processes: ProcessReading[]): CommandReading[] {
  const groups = new Map<string, CommandReading>();
  for (const p of processes) {
    const key = JSON.stringify([p.command, p.user]);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { command: p.command, user: p.user, processes: 0, open: 0 }));
    group.processes++;
    group.open += p.open;
    if (p.inheritable !== undefined) group.inheritable = (group.inheritable ?? 0) + p.inheritable;
    if (p.byType) {
      group.byType ??= {};
      for (const [type, n] of Object.entries(p.byType)) group.byType[type] = (group.byType[type] ?? 0) + n;
    }
    if (p.limits) group.worstUsage = Math.max(group.worstUsage ?? 0, usageOf(p.open, p.limits));
  }
  return [...groups.values()];
}
