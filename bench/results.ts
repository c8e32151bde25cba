/** The shape of bench/results.json (schema fdscan/bench@1) and the targets of issues 6 and 12. */
import type { Cell } from './cells.js';
import type { FleetRun } from './fleet.js';
import { ratio } from './stats.js';

export interface AuditRun {
  /** Descriptors asked of the holder, and how many it reported open. */
  n: number;
  held: number;
  /** Rows in fdscan's JSON for the holder (a sanity check that it read them all). */
  fdscanRows?: number;
  cells: Cell[];
  ratios: { fdscanOverLsof?: number; fdscanOverLsfd?: number; fdscanMinusNodeOverFloor?: number; tableOverJson?: number };
}

export interface BenchResults {
  schema: 'fdscan/bench@1';
  date: string;
  machine: { cores: number; cpu: string; kernel: string; node: string; lsof?: string; lsfd?: string; cc?: string };
  config: { runs: number; warmup: number; sizes: number[]; execs: number; slowRuns: number; quick: boolean; crowds?: number[] };
  audits: AuditRun[];
  machineWide?: { processes: number; descriptors: number; cells: Cell[] };
  tracing: { execs: number; gate: boolean; inheritDiff: boolean; cells: Cell[] };
  /** top and metrics against the number of processes on the machine. */
  fleet?: FleetRun[];
  memory?: { fromN: number; toN: number; bytesPerFd: number; slopes: Array<{ fromN: number; toN: number; bytesPerFd: number }> };
  targets: Target[];
  notes: string[];
}

export interface Target {
  name: string;
  status: 'PASS' | 'GAP' | 'N/A';
  detail: string;
}

/** Median wall time of one cell, in ms. */
export function median(cells: Cell[], id: string): number | undefined {
  return cells.find((c) => c.id === id)?.wallMs?.median;
}

/** The ratios issue 6 asks for, from the medians of one holder size. */
export function auditRatios(cells: Cell[]): AuditRun['ratios'] {
  const fdscan = median(cells, 'fdscan');
  const node = median(cells, 'node');
  return {
    fdscanOverLsof: ratio(fdscan, median(cells, 'lsof')),
    fdscanOverLsfd: ratio(fdscan, median(cells, 'lsfd')),
    fdscanMinusNodeOverFloor: fdscan !== undefined && node !== undefined ? ratio(fdscan - node, median(cells, 'floor')) : undefined,
    tableOverJson: ratio(median(cells, 'fdscanTable'), fdscan),
  };
}

/** Peak-memory growth of fdscan per descriptor, between each pair of sizes and end to end. */
export function memoryGrowth(audits: AuditRun[]): BenchResults['memory'] {
  const points = audits
    .map((a) => ({ n: a.held, kb: a.cells.find((c) => c.id === 'fdscan')?.maxRssKb?.median }))
    .filter((p): p is { n: number; kb: number } => p.kb !== undefined)
    .sort((a, b) => a.n - b.n);
  if (points.length < 2) return undefined;
  const slope = (a: { n: number; kb: number }, b: { n: number; kb: number }): number => Math.round(((b.kb - a.kb) * 1024) / (b.n - a.n));
  const slopes = points.slice(1).map((p, i) => ({ fromN: points[i]!.n, toN: p.n, bytesPerFd: slope(points[i]!, p) }));
  return { fromN: points[0]!.n, toN: points[points.length - 1]!.n, bytesPerFd: slope(points[0]!, points[points.length - 1]!), slopes };
}

/** PASS/GAP per target of issues 6 and 12; N/A when the bench could not measure it. */
export function evaluateTargets(results: Omit<BenchResults, 'targets'>): Target[] {
  const targets: Target[] = [];
  const at10k = results.audits.find((a) => a.n === 10000);
  const fmt = (v: number | undefined): string => (v === undefined ? '?' : `${Math.round(v)} ms`);
  if (!at10k) {
    targets.push({ name: '10k: fdscan ≤ min(lsof +fg, lsfd -J)', status: 'N/A', detail: '10,000 descriptors not measured in this run' });
    targets.push({ name: '10k: fdscan − node -e 0 ≤ 1.5 × C floor', status: 'N/A', detail: '10,000 descriptors not measured in this run' });
  } else {
    const fdscan = median(at10k.cells, 'fdscan');
    const others = [median(at10k.cells, 'lsof'), median(at10k.cells, 'lsfd')].filter((v): v is number => v !== undefined);
    if (fdscan === undefined || others.length === 0) {
      targets.push({ name: '10k: fdscan ≤ min(lsof +fg, lsfd -J)', status: 'N/A', detail: 'lsof and lsfd both missing' });
    } else {
      const best = Math.min(...others);
      targets.push({ name: '10k: fdscan ≤ min(lsof +fg, lsfd -J)', status: fdscan <= best ? 'PASS' : 'GAP',
        detail: `${fmt(fdscan)} vs ${fmt(best)} (${ratio(fdscan, best)}×)` });
    }
    const node = median(at10k.cells, 'node');
    const floor = median(at10k.cells, 'floor');
    if (fdscan === undefined || node === undefined || floor === undefined) {
      targets.push({ name: '10k: fdscan − node -e 0 ≤ 1.5 × C floor', status: 'N/A', detail: 'no C floor (no compiler)' });
    } else {
      const own = fdscan - node;
      targets.push({ name: '10k: fdscan − node -e 0 ≤ 1.5 × C floor', status: own <= 1.5 * floor ? 'PASS' : 'GAP',
        detail: `${fmt(own)} vs 1.5 × ${fmt(floor)} = ${fmt(1.5 * floor)} (${ratio(own, floor)}× floor)` });
    }
  }
  // Issue 12: printing the table costs about what reading the descriptors does, not more.
  if (!at10k) {
    targets.push({ name: '10k: table ≤ 2 × --json', status: 'N/A', detail: '10,000 descriptors not measured in this run' });
  } else {
    const table = median(at10k.cells, 'fdscanTable');
    const json = median(at10k.cells, 'fdscan');
    const r = ratio(table, json);
    targets.push({ name: '10k: table ≤ 2 × --json', status: r === undefined ? 'N/A' : r <= 2 ? 'PASS' : 'GAP',
      detail: `${fmt(table)} vs ${fmt(json)} (${r ?? '?'}×)` });
  }
  const bare = median(results.tracing.cells, 'bare');
  const gate = median(results.tracing.cells, 'gate');
  if (!results.tracing.gate) {
    targets.push({ name: `gate overhead ≤ 1.3× bare (${results.tracing.execs} execs)`, status: 'N/A', detail: 'fdscan gate not available yet' });
  } else {
    const r = ratio(gate, bare);
    targets.push({ name: `gate overhead ≤ 1.3× bare (${results.tracing.execs} execs)`, status: r !== undefined && r <= 1.3 ? 'PASS' : 'GAP',
      detail: `${fmt(gate)} vs ${fmt(bare)} (${r}×)` });
  }
  const memory = results.memory;
  if (!memory || memory.slopes.length < 2) {
    targets.push({ name: 'memory grows linearly', status: 'N/A', detail: memory ? `${memory.bytesPerFd} B/fd; three sizes needed to judge linearity` : 'two sizes or more, with peak memory, needed' });
  } else {
    // Linear: the growth per descriptor of the upper range is no more than 1.5× that of the lower.
    const [low, high] = [memory.slopes[0]!.bytesPerFd, memory.slopes[memory.slopes.length - 1]!.bytesPerFd];
    const linear = high <= Math.max(1.5 * low, low + 512);
    targets.push({ name: 'memory grows linearly', status: linear ? 'PASS' : 'GAP',
      detail: `${memory.bytesPerFd} B/fd from ${memory.fromN} to ${memory.toN} (${memory.slopes.map((s) => `${s.bytesPerFd} B/fd ${s.fromN}→${s.toN}`).join(', ')})` });
  }
  return targets;
}
