/** The shape of bench/results.json (schema fdscan/bench@2): one lane per Node, and the targets of issue 13 (and the table target of issue 12). */
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

/** Everything measured with fdscan running on one Node. */
export interface LaneResults {
  /** The node binary and its version. */
  node: string;
  version: string;
  audits: AuditRun[];
  /** `--all` with the machine brought to 1,000+ processes (`extra` of them idle, started for it). */
  machineWide?: { processes: number; descriptors: number; extra: number; cells: Cell[] };
  tracing: { execs: number; gate: boolean; inheritDiff: boolean; cells: Cell[] };
  /** The gate's peak memory at a second, longer exec count, and the growth per traced process. */
  traceMemory?: { fromExecs: number; toExecs: number; bytesPerProcess: number; cells: Cell[] };
  /** `make -j2` of small compiles, bare and under the gate. */
  make?: { compiles: number; cells: Cell[] };
  /** The worst case of origins: a program making `descriptors` inheritable descriptors, bare, under the gate, under `gate --no-origins`. */
  origins?: { descriptors: number; cells: Cell[] };
  memory?: { fromN: number; toN: number; bytesPerFd: number; slopes: Array<{ fromN: number; toN: number; bytesPerFd: number }> };
  targets: Target[];
  /** The four rows of issue 25's table, each against its bound. */
  issue25?: Target[];
}

export interface BenchResults {
  schema: 'fdscan/bench@2';
  date: string;
  machine: { cores: number; cpu: string; kernel: string; lsof?: string; lsfd?: string; strace?: string; make?: string; cc?: string };
  config: {
    runs: number; warmup: number; sizes: number[]; execs: number; slowRuns: number; quick: boolean; crowds: number[];
    nodes: string[]; allProcesses: number; compiles: number; memoryExecs: number;
  };
  lanes: LaneResults[];
  /** top and metrics against the number of processes (the machine's Node). */
  fleet?: FleetRun[];
  notes: string[];
}

export interface Target {
  name: string;
  status: 'PASS' | 'GAP' | 'N/A';
  /** The measured ratio against the target's bound (≤ 1 passes), when there is one. */
  ratio?: number;
  detail: string;
  /** The bound as the issue states it, e.g. `≤ 1.2 × strace` (issue 25's rows). */
  bound?: string;
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

/** Peak-memory growth of fdscan per descriptor, between each pair of sizes (1,000 and up) and end to end. */
export function memoryGrowth(audits: AuditRun[]): LaneResults['memory'] {
  const points = audits
    .filter((a) => a.n >= 1000)
    .map((a) => ({ n: a.held, kb: a.cells.find((c) => c.id === 'fdscan')?.maxRssKb?.median }))
    .filter((p): p is { n: number; kb: number } => p.kb !== undefined)
    .sort((a, b) => a.n - b.n);
  if (points.length < 2) return undefined;
  const slope = (a: { n: number; kb: number }, b: { n: number; kb: number }): number => Math.round(((b.kb - a.kb) * 1024) / (b.n - a.n));
  const slopes = points.slice(1).map((p, i) => ({ fromN: points[i]!.n, toN: p.n, bytesPerFd: slope(points[i]!, p) }));
  return { fromN: points[0]!.n, toN: points[points.length - 1]!.n, bytesPerFd: slope(points[0]!, points[points.length - 1]!), slopes };
}

const fmt = (v: number | undefined): string => (v === undefined ? '?' : `${Math.round(v)} ms`);

/** A target `value ≤ bound`: PASS or GAP with the ratio value/bound, N/A with why when either is missing. */
function bounded(name: string, value: number | undefined, bound: number | undefined, detail: string, missing: string): Target {
  if (value === undefined || bound === undefined || bound <= 0) return { name, status: 'N/A', detail: missing };
  const r = ratio(value, bound)!;
  return { name, status: value <= bound ? 'PASS' : 'GAP', ratio: r, detail };
}

/**
 * Issue 25's table, one row per line, each with its bound: fdscan's own work at 30 descriptors
 * (minus `node -e 0`) ≤ `lsof -n -P -p`; `--all --json` ≤ `lsof -n -P`; the gate on the exec script
 * ≤ 1.2 × `strace -f --seccomp-bpf -e trace=execve`; 10,000 descriptors ≤ the faster of
 * `lsof +fg` and `lsfd -J`. Ratio = measured ÷ bound, as for every target.
 */
export function issue25Rows(lane: Omit<LaneResults, 'targets' | 'issue25'>): Target[] {
  const cell = (cells: Cell[] | undefined, id: string): number | undefined => (cells ? median(cells, id) : undefined);
  const rows: Target[] = [];
  const small = lane.audits.find((a) => a.n <= 100);
  const fdscanSmall = cell(small?.cells, 'fdscan');
  const nodeSmall = cell(small?.cells, 'node');
  const lsofSmall = cell(small?.cells, 'lsofPlainNP');
  const own = fdscanSmall !== undefined && nodeSmall !== undefined ? fdscanSmall - nodeSmall : undefined;
  rows.push({ ...bounded(`${small?.held ?? 30} descriptors, fdscan's own work (− node -e 0) vs lsof -n -P -p`, own, lsofSmall,
    `${fmt(fdscanSmall)} − ${fmt(nodeSmall)} = ${fmt(own)} vs ${fmt(lsofSmall)}`, small ? 'lsof missing' : 'no size ≤ 100 measured'), bound: '≤ 1.0×' });
  const all = cell(lane.machineWide?.cells, 'fdscanAll');
  const lsofAll = cell(lane.machineWide?.cells, 'lsofAll');
  rows.push({ ...bounded('--all --json vs lsof -n -P', all, lsofAll,
    `${fmt(all)} vs ${fmt(lsofAll)} at ${lane.machineWide?.processes.toLocaleString('en-US')} processes (${lane.machineWide?.extra} extra)`,
    lane.machineWide ? 'lsof missing' : 'not measured'), bound: '≤ 1.0×' });
  const gate = cell(lane.tracing.cells, 'gate');
  const strace = cell(lane.tracing.cells, 'strace');
  rows.push({ ...bounded(`gate on ${lane.tracing.execs} execs vs strace -f --seccomp-bpf -e trace=execve`, gate, strace === undefined ? undefined : 1.2 * strace,
    `${fmt(gate)} vs 1.2 × ${fmt(strace)}`, gate === undefined ? 'gate not measured' : 'strace missing'), bound: '≤ 1.2×' });
  const at10k = lane.audits.find((a) => a.n === 10000);
  const fdscan10k = cell(at10k?.cells, 'fdscan');
  const others: Array<[string, number | undefined]> = [['lsof +fg', cell(at10k?.cells, 'lsof')], ['lsfd -J', cell(at10k?.cells, 'lsfd')]];
  const fastest = others.flatMap(([name, value]): Array<[string, number]> => (value === undefined ? [] : [[name, value]])).sort((a, b) => a[1] - b[1])[0];
  rows.push({ ...bounded('audit of 10,000 descriptors vs the fastest of lsof +fg / lsfd -J', fdscan10k, fastest?.[1],
    `${fmt(fdscan10k)} vs ${fmt(fastest?.[1])} (${fastest?.[0] ?? '-'})`, at10k ? 'lsof and lsfd both missing' : '10,000 descriptors not measured'), bound: '≤ 1.0×' });
  return rows;
}

/** PASS/GAP per target of issue 13 (and the table target of issue 12), for one lane. */
export function evaluateTargets(lane: Omit<LaneResults, 'targets'>): Target[] {
  const targets: Target[] = [];
  const at10k = lane.audits.find((a) => a.n === 10000);
  const small = lane.audits.find((a) => a.n <= 100);
  const cell = (cells: Cell[] | undefined, id: string): number | undefined => (cells ? median(cells, id) : undefined);

  const fdscan10k = cell(at10k?.cells, 'fdscan');
  const peers10k = [cell(at10k?.cells, 'lsof'), cell(at10k?.cells, 'lsfd')].filter((v): v is number => v !== undefined);
  const best = peers10k.length > 0 ? Math.min(...peers10k) : undefined;
  targets.push(bounded('10k descriptors: fdscan ≤ min(lsof +fg, lsfd -J)', fdscan10k, best,
    `${fmt(fdscan10k)} vs ${fmt(best)}`, at10k ? 'lsof and lsfd both missing' : '10,000 descriptors not measured'));
  const node10k = cell(at10k?.cells, 'node');
  const floor10k = cell(at10k?.cells, 'floor');
  const own10k = fdscan10k !== undefined && node10k !== undefined ? fdscan10k - node10k : undefined;
  targets.push(bounded('10k descriptors: fdscan − node -e 0 ≤ 1.5 × C floor', own10k, floor10k === undefined ? undefined : 1.5 * floor10k,
    `${fmt(own10k)} vs 1.5 × ${fmt(floor10k)}`, at10k ? 'no C floor (no compiler)' : '10,000 descriptors not measured'));
  const fdscanSmall = cell(small?.cells, 'fdscan');
  const nodeSmall = cell(small?.cells, 'node');
  const lsofSmall = cell(small?.cells, 'lsofPlain');
  const ownSmall = fdscanSmall !== undefined && nodeSmall !== undefined ? fdscanSmall - nodeSmall : undefined;
  targets.push(bounded(`${small?.held ?? 30} descriptors: fdscan − node -e 0 ≤ lsof -p`, ownSmall, lsofSmall,
    `${fmt(fdscanSmall)} − ${fmt(nodeSmall)} = ${fmt(ownSmall)} vs ${fmt(lsofSmall)}`, small ? 'lsof missing' : 'no size ≤ 100 measured'));

  const all = cell(lane.machineWide?.cells, 'fdscanAll');
  const lsofAll = cell(lane.machineWide?.cells, 'lsofAll');
  // One name on every lane (each lane counts its own processes): the count goes in the detail.
  targets.push(bounded('--all, the whole machine: fdscan ≤ lsof -n -P', all, lsofAll,
    `${fmt(all)} vs ${fmt(lsofAll)} at ${lane.machineWide?.processes.toLocaleString('en-US')} processes`, lane.machineWide ? 'lsof missing' : 'not measured'));

  const bare = cell(lane.tracing.cells, 'bare');
  const strace = cell(lane.tracing.cells, 'strace');
  for (const [id, label] of [['gate', 'gate'], ['inheritDiff', 'inherit-diff']] as const) {
    const traced = cell(lane.tracing.cells, id);
    const execs = lane.tracing.execs;
    targets.push(bounded(`${label}, ${execs} execs: ≤ 1.2 × strace -f --seccomp-bpf`, traced, strace === undefined ? undefined : 1.2 * strace,
      `${fmt(traced)} vs 1.2 × ${fmt(strace)}`, traced === undefined ? `${label} not measured` : 'strace missing'));
    targets.push(bounded(`${label}, ${execs} execs: ≤ 1.5 × bare`, traced, bare === undefined ? undefined : 1.5 * bare,
      `${fmt(traced)} vs 1.5 × ${fmt(bare)}`, `${label} not measured`));
  }
  const makeBare = cell(lane.make?.cells, 'makeBare');
  const makeGate = cell(lane.make?.cells, 'makeGate');
  targets.push(bounded(`make -j2 of ${lane.make?.compiles ?? 100} compiles under gate: ≤ 1.1 × bare`, makeGate, makeBare === undefined ? undefined : 1.1 * makeBare,
    `${fmt(makeGate)} vs 1.1 × ${fmt(makeBare)}`, 'make or a compiler missing'));

  // Origins (issue 21): what the seccomp filter and its stops add to the gate.
  const gateOff = cell(lane.tracing.cells, 'gateNoOrigins');
  const gateOn = cell(lane.tracing.cells, 'gate');
  targets.push(bounded(`origins, ${lane.tracing.execs} execs: gate ≤ 1.05 × gate --no-origins`, gateOn, gateOff === undefined ? undefined : 1.05 * gateOff,
    `${fmt(gateOn)} vs 1.05 × ${fmt(gateOff)}`, 'gate --no-origins not measured'));
  const makeOff = cell(lane.make?.cells, 'makeGateNoOrigins');
  targets.push(bounded(`origins, make -j2: gate ≤ 1.05 × gate --no-origins`, makeGate, makeOff === undefined ? undefined : 1.05 * makeOff,
    `${fmt(makeGate)} vs 1.05 × ${fmt(makeOff)}`, 'make or gate --no-origins not measured'));
  const memory = lane.memory;
  targets.push(bounded('memory: ≤ 4 KB per descriptor audited', memory?.bytesPerFd, 4096,
    memory ? `${memory.bytesPerFd} B/fd from ${memory.fromN} to ${memory.toN}` : '', 'two sizes of 1,000 or more, with peak memory, needed'));
  const perProcess = lane.traceMemory?.bytesPerProcess;
  targets.push(bounded('memory: ≤ 2 KB per traced process', perProcess, 2048,
    lane.traceMemory ? `${perProcess} B/process from ${lane.traceMemory.fromExecs} to ${lane.traceMemory.toExecs} execs` : '', 'not measured (--memory-execs 0)'));
  if (memory && memory.slopes.length >= 2) {
    // Linear: the growth per descriptor of the upper range is no more than 1.5× that of the lower.
    const [low, high] = [memory.slopes[0]!.bytesPerFd, memory.slopes[memory.slopes.length - 1]!.bytesPerFd];
    targets.push({ name: 'memory grows linearly', status: high <= Math.max(1.5 * low, low + 512) ? 'PASS' : 'GAP',
      detail: memory.slopes.map((s) => `${s.bytesPerFd} B/fd ${s.fromN}→${s.toN}`).join(', ') });
  }
  // Issue 12: printing the table costs about what reading the descriptors does, not more.
  const table = cell(at10k?.cells, 'fdscanTable');
  targets.push(bounded('10k descriptors: table ≤ 2 × --json', table, fdscan10k === undefined ? undefined : 2 * fdscan10k,
    `${fmt(table)} vs 2 × ${fmt(fdscan10k)}`, '10,000 descriptors not measured'));
  return targets;
}
