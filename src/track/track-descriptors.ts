/**
 * Descriptor leak checks for test suites: run a function several times in this process and see which
 * descriptors each run left open. Works from any runner (ava, node:test, mocha, jest): it only
 * reads this process's own table before and after each run.
 */
import type { Descriptor } from '../probe-kit/contract.js';
import { FdscanError, crossesThreads } from '../errors.js';
import { listDescriptors } from '../audit/audit.js';
import { descriptorKey } from '../audit/descriptor-identity.js';
import { renderTrackResult } from './track-text.js';
import type { TrackResult, TrackedRun } from './track-result.js';

export { renderTrackResult };
export type { TrackResult, TrackedRun };

export interface TrackOptions {
  /** Counted runs (default 3). */
  repeat?: number;
  /** Runs before the counted ones, not judged: lazy initialisation of caches and pools (default 1). */
  warmup?: number;
  /** Descriptors to disregard, e.g. a connection pool the function is meant to fill. */
  ignore?: (d: Descriptor) => boolean;
}

/** Run `fn` (sync or async) warmup + repeat times; per counted run, the descriptors opened and not closed. */
export async function trackDescriptors(fn: () => unknown, options: TrackOptions = {}): Promise<TrackResult> {
  const repeat = options.repeat ?? 3;
  const warmup = options.warmup ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1 || !Number.isInteger(warmup) || warmup < 0) {
    throw new FdscanError('EUSAGE', 'trackDescriptors: repeat must be a positive integer and warmup a non-negative one');
  }
  for (let i = 0; i < warmup; i++) await fn();
  const runs: TrackedRun[] = [];
  for (let run = 1; run <= repeat; run++) {
    const before = new Set(snapshot().map(descriptorKey));
    await fn();
    const leaked = snapshot().filter((d) => !before.has(descriptorKey(d)) && !(options.ignore?.(d) ?? false));
    runs.push({ run, leaked });
  }
  const leakedPerRun = runs.map((r) => r.leaked.length);
  return { runs, leakedPerRun, leaked: leakedPerRun.some((n) => n > 0) };
}

/** `fn` left descriptors open: `result` holds every run, the message the readable report. */
export class DescriptorLeakError extends FdscanError {
  static { crossesThreads(this); }
  readonly result: TrackResult;
  constructor(result: TrackResult, name?: string) {
    super('EFDLEAK', renderTrackResult(result, name));
    this.result = result;
  }
}

/** Throw DescriptorLeakError when any counted run of `fn` left a descriptor open. */
export async function assertNoDescriptorLeaks(fn: () => unknown, options: TrackOptions & { name?: string } = {}): Promise<TrackResult> {
  const result = await trackDescriptors(fn, options);
  if (result.leaked) throw new DescriptorLeakError(result, options.name ?? (fn.name || undefined));
  return result;
}

function snapshot(): Descriptor[] {
  return listDescriptors(process.pid, { peers: false }).fds;
}
