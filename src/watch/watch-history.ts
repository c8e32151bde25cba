/**
 * What a chart of a watch needs, kept as the samples come: per sample its time, the count and the
 * count by type, a few numbers each, so a watch of hours stays small. The descriptors themselves
 * are not kept here (the summary lists those that appeared and stayed).
 */
import type { WatchSample } from './watch-process.js';

/** The counts of every sample of a watch, by column. */
export class WatchHistory {
  /** Milliseconds since the first sample, per sample. */
  readonly elapsedMs: number[] = [];
  /** The count per sample. */
  readonly total: number[] = [];
  /** The count of each type per sample; as long as `total` (0 where the type had none). */
  readonly byType = new Map<string, number[]>();
  /** The command line at the first sample. */
  argv: string[] = [];

  /** Record one sample (WatchOptions.onSample). */
  add(sample: WatchSample): void {
    const index = this.total.length;
    if (index === 0) this.argv = sample.argv;
    this.elapsedMs.push(sample.elapsedMs);
    this.total.push(sample.count);
    for (const [type, count] of Object.entries(sample.byType)) {
      let column = this.byType.get(type);
      // A type first seen now had none before.
      if (!column) this.byType.set(type, (column = Array<number>(index).fill(0)));
      column.push(count);
    }
    for (const column of this.byType.values()) if (column.length === index) column.push(0);
  }
}
