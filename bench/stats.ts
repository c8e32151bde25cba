/** Summaries of repeated timings: median, spread, and the ratios the bench reports. */

export interface Summary {
  runs: number;
  median: number;
  min: number;
  max: number;
  p90: number;
}

/** Median, min, max and 90th percentile (nearest rank) of a non-empty sample. */
export function summarize(values: number[]): Summary {
  if (values.length === 0) throw new Error('summarize: no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  const p90 = sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)]!;
  return { runs: values.length, median, min: sorted[0]!, max: sorted[sorted.length - 1]!, p90 };
}

/** a / b rounded to two decimals, or undefined when either side is missing. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || b <= 0) return undefined;
  return Math.round((a / b) * 100) / 100;
}

/** Milliseconds with one decimal below 100, none above. */
export function ms(value: number | undefined): string {
  if (value === undefined) return '-';
  return value < 100 ? value.toFixed(1) : value.toFixed(0);
}
