/**
 * Sampling a live process: its descriptor count over time, the descriptors that appeared and stayed,
 * and execs of the same pid (seen as a change of argv between two samples: an exec that keeps the
 * same argv is invisible to sampling). With `origins`, the process is also followed syscall by
 * syscall (the probe's watchOrigins) so that each new descriptor names the call that made it.
 */
import type { Descriptor, OriginWatch } from '../probe-kit/contract.js';
import type { DescriptorOrigin } from '../probe-kit/trace-result.js';
import { probeFor } from '../platform/probe.js';
import { listDescriptors } from '../audit/audit.js';
import { descriptorKey as key } from '../audit/descriptor-identity.js';
import { FdscanError, NoSuchProcess } from '../errors.js';

/** A descriptor with where it was made, when origins were asked for. */
export type WatchedDescriptor = Descriptor & { origin?: DescriptorOrigin };

/** One reading of the process. */
export interface WatchSample {
  index: number;
  /** Milliseconds since the first sample. */
  elapsedMs: number;
  count: number;
  /** The count by type (REG, SOCK, FIFO, ...): the few numbers a chart of the watch keeps per sample. */
  byType: Record<string, number>;
  argv: string[];
  /** argv differs from the sample before: the pid exec'd. */
  exec: boolean;
  /** With `origins`: each one's origin as far as it is known at the sample (the summary's is final). */
  opened: WatchedDescriptor[];
  closed: Descriptor[];
}

export interface WatchSummary {
  pid: number;
  samples: number;
  /** Descriptor count per sample. */
  counts: number[];
  /** Last count minus first. */
  growth: number;
  /** Descriptors absent from the first sample, present in at least two samples and in the last one. */
  stayed: Array<WatchedDescriptor & { firstSeen: number }>;
  /** Samples at which argv changed: the pid exec'd a new program. */
  execs: Array<{ sample: number; argv: string[] }>;
  /** Why the watch ended: `count`, `interrupted` (SIGINT), `exited` (the process is gone). */
  ended: 'count' | 'interrupted' | 'exited';
}

export interface WatchOptions {
  intervalMs?: number;
  /** Stop after this many samples (default: until stopped or the process exits). */
  count?: number;
  onSample?: (sample: WatchSample) => void;
  /** Resolves, or aborts, to stop the watch early. */
  signal?: AbortSignal;
  /** Follow the process to learn where each new descriptor is made (it is left as it was at the end). */
  origins?: boolean;
}

/** Sample `pid` every `intervalMs` until `count` samples, the abort signal, or its exit. */
export async function watchProcess(pid: number, options: WatchOptions = {}): Promise<WatchSummary> {
  let origins: OriginWatch | undefined;
  if (options.origins) {
    const probe = probeFor();
    if (!probe.watchOrigins) throw new FdscanError('EUNSUPPORTED', `--origins is not available on ${probe.platform}: it needs ptrace (Linux)`);
    origins = probe.watchOrigins(pid);
    await origins.attached;
  }
  let summary: WatchSummary;
  try {
    summary = await sampleProcess(pid, options, origins);
  } finally {
    // Detached before anything is printed or thrown: the process runs on as it was.
    await origins?.stop();
  }
  if (origins) for (const d of summary.stayed) d.origin = origins.originOf(d);
  return summary;
}

async function sampleProcess(pid: number, options: WatchOptions, origins: OriginWatch | undefined): Promise<WatchSummary> {
  const interval = options.intervalMs ?? 1000;
  const start = Date.now();
  const counts: number[] = [];
  const execs: WatchSummary['execs'] = [];
  const firstSeen = new Map<string, { d: Descriptor; at: number }>();
  let first: Set<string> | undefined;
  let previous: Descriptor[] = [];
  let previousArgv: string[] | undefined;
  let current = new Set<string>();
  let ended: WatchSummary['ended'] = 'count';
  for (let index = 0; options.count === undefined || index < options.count; index++) {
    if (options.signal?.aborted) { ended = 'interrupted'; break; }
    let audit;
    try {
      audit = listDescriptors(pid, { peers: false });
    } catch (error) {
      // The first reading's error is the caller's (no such process); later, the process has exited.
      if (error instanceof NoSuchProcess && index > 0) { ended = 'exited'; break; }
      throw error;
    }
    // A zombie has exited: its empty table and argv are no sample (not an exec, not a drop to 0).
    // Nor is a reading the process exited under (incomplete): its argv may already be empty.
    if (audit.zombie || audit.incomplete) {
      if (index === 0) throw new NoSuchProcess(pid);
      ended = 'exited';
      break;
    }
    const argv = audit.argv ?? [audit.command];
    const exec = previousArgv !== undefined && argv.join('\0') !== previousArgv.join('\0');
    if (exec) execs.push({ sample: index, argv });
    previousArgv = argv;
    current = new Set(audit.fds.map(key));
    const before = new Set(previous.map(key));
    for (const d of audit.fds) if (!firstSeen.has(key(d))) firstSeen.set(key(d), { d, at: index });
    first ??= new Set(current);
    counts.push(audit.fds.length);
    const byType: Record<string, number> = {};
    for (const d of audit.fds) byType[d.type] = (byType[d.type] ?? 0) + 1;
    options.onSample?.({
      index, elapsedMs: Date.now() - start, count: audit.fds.length, byType, argv, exec,
      opened: index === 0 ? [] : audit.fds.filter((d) => !before.has(key(d))).map((d) => (origins ? { ...d, origin: origins.originOf(d) } : d)),
      closed: previous.filter((d) => !current.has(key(d))),
    });
    previous = audit.fds;
    if (options.count !== undefined && index + 1 >= options.count) break;
    if (!(await sleep(interval, options.signal))) { ended = 'interrupted'; break; }
  }
  const last = counts.length - 1;
  const stayed = [...firstSeen.entries()]
    .filter(([k, { at }]) => !first!.has(k) && current.has(k) && at < last)
    .map(([k, { d, at }]) => ({ ...(previous.find((p) => key(p) === k) ?? d), firstSeen: at }));
  return { pid, samples: counts.length, counts, growth: counts.length > 0 ? counts[last]! - counts[0]! : 0, stayed, execs, ended };
}

/** Wait `ms`; false when `signal` aborted first. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) { resolve(false); return; }
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(true); }, ms);
    const onAbort = (): void => { clearTimeout(timer); resolve(false); };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
