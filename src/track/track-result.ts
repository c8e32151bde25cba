/** What trackDescriptors found: the runs and what each left open (its own module: the text renderer reads it too). */
import type { Descriptor } from '../probe-kit/contract.js';

/** What one counted run left open. */
export interface TrackedRun {
  /** 1-based number of the counted run. */
  run: number;
  /** Descriptors open after the run that were not open, as the same object at that number, before it. */
  leaked: Descriptor[];
}

/** Every counted run of trackDescriptors, and per run how many it left open. */
export interface TrackResult {
  runs: TrackedRun[];
  /** Per counted run, how many it left open: `[1, 1, 1]` for a function leaking one per call. */
  leakedPerRun: number[];
  /** True when any counted run left a descriptor open. */
  leaked: boolean;
}
