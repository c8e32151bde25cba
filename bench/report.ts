/** The bench's printed report: header, one table per question, targets with PASS/GAP. */
import Table from 'cli-table3';
import type { Cell } from './cells.js';
import type { BenchResults, LaneResults } from './results.js';
import { ms } from './stats.js';

const PLAIN = { head: [], border: [], compact: true } as const;

function table(head: string[]): Table.Table {
  return new Table({ head, style: { ...PLAIN, head: [], border: [] } });
}

function wall(cell: Cell | undefined): string {
  if (!cell?.wallMs) return cell?.failures[0] ? 'failed' : 'n/a';
  const w = cell.wallMs;
  return `${ms(w.median)} [${ms(w.min)}–${ms(w.max)}]${cell.failures.length ? ' !' : ''}`;
}

function rss(cell: Cell | undefined): string {
  return cell?.maxRssKb ? `${(cell.maxRssKb.median / 1024).toFixed(1)}` : '-';
}

/**
 * Each command's cost per process: the least-squares slope of its median against the machine's
 * process count over the rows (other jobs may change the count between rows, so not first to last).
 */
function fleetCostPerProcess(fleet: NonNullable<BenchResults['fleet']>): Array<[string, number]> {
  return fleet[0]!.cells.flatMap((cell): Array<[string, number]> => {
    const points = fleet.flatMap((f) => {
      const median = f.cells.find((c) => c.id === cell.id)?.wallMs?.median;
      return median === undefined ? [] : [[f.processes, median] as const];
    });
    const meanX = points.reduce((sum, [x]) => sum + x, 0) / points.length;
    const meanY = points.reduce((sum, [, y]) => sum + y, 0) / points.length;
    const spread = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
    if (points.length < 2 || spread === 0) return [];
    const slope = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0) / spread;
    return [[cell.label, slope * 1000]];
  });
}

const x = (v: number | undefined): string => (v === undefined ? '-' : `${v.toFixed(2)}×`);

/** Tables of one lane: the audits by size, the whole machine, tracing, make, memory. */
function renderLane(r: BenchResults, lane: LaneResults, out: string[]): void {
  out.push('', `=== fdscan on Node ${lane.version} (${lane.node}) ===`);
  if (lane.audits.length > 0) {
    out.push('', 'Audit of one process holding N descriptors (40% files, 20% pipes, 40% unix sockets + 4 TCP listeners; half close-on-exec)');
    const head = ['command'];
    for (const a of lane.audits) head.push(`N=${a.held.toLocaleString('en-US')} ms`, 'MiB');
    const t = table(head);
    const ids = [...new Map(lane.audits.flatMap((a) => a.cells).map((c) => [c.id, c.label])).entries()];
    for (const [id, label] of ids) {
      const row = [label];
      for (const a of lane.audits) {
        const c = a.cells.find((k) => k.id === id);
        row.push(c ? wall(c) : '', c ? rss(c) : '');
      }
      t.push(row);
    }
    const ratios: Array<[string, keyof LaneResults['audits'][number]['ratios']]> = [
      ['fdscan / lsof +fg', 'fdscanOverLsof'],
      ['fdscan / lsfd -J', 'fdscanOverLsfd'],
      ['(fdscan − node -e 0) / C floor', 'fdscanMinusNodeOverFloor'],
      ['fdscan table / fdscan --json', 'tableOverJson'],
    ];
    for (const [label, key] of ratios) t.push([label, ...lane.audits.flatMap((a) => [x(a.ratios[key]), ''])]);
    out.push(t.toString());
    for (const a of lane.audits) {
      if (a.fdscanRows !== undefined && a.fdscanRows !== a.held) out.push(`note: at N=${a.n} fdscan reported ${a.fdscanRows} rows for ${a.held} descriptors`);
    }
  }
  if (lane.machineWide) {
    const m = lane.machineWide;
    out.push('', `Whole machine: ${m.processes.toLocaleString('en-US')} processes (${m.extra} idle ones started for it), ${m.descriptors.toLocaleString('en-US')} descriptors (${r.config.slowRuns} runs)`);
    const t = table(['command', 'ms', 'MiB']);
    for (const cell of m.cells) t.push([cell.label, wall(cell), rss(cell)]);
    out.push(t.toString());
  }
  out.push('', `Tracing: a script that execs /bin/true ${lane.tracing.execs} times (${r.config.slowRuns} runs)`);
  const t = table(['command', 'ms', 'MiB', 'vs bare']);
  const bare = lane.tracing.cells.find((c) => c.id === 'bare')?.wallMs?.median;
  for (const cell of [...lane.tracing.cells, ...(lane.traceMemory?.cells ?? [])]) {
    t.push([cell.label, wall(cell), rss(cell), bare && cell.wallMs && cell.id !== 'gateLong' ? x(cell.wallMs.median / bare) : '-']);
  }
  out.push(t.toString());
  if (lane.make) {
    out.push('', `A make -j2 of ${lane.make.compiles} compiler runs (${r.config.slowRuns} runs)`);
    const m = table(['command', 'ms', 'MiB']);
    for (const cell of lane.make.cells) m.push([cell.label, wall(cell), rss(cell)]);
    out.push(m.toString());
  }
  if (lane.origins) {
    out.push('', `Origins, the worst case: a program making ${lane.origins.descriptors.toLocaleString('en-US')} inheritable descriptors (${r.config.slowRuns} runs)`);
    const o = table(['command', 'ms', 'MiB']);
    for (const cell of lane.origins.cells) o.push([cell.label, wall(cell), rss(cell)]);
    out.push(o.toString());
  }
  if (lane.memory) {
    out.push('', `fdscan peak memory: ${lane.memory.bytesPerFd} bytes per descriptor from N=${lane.memory.fromN} to N=${lane.memory.toN}` +
      ` (${lane.memory.slopes.map((s) => `${s.bytesPerFd} B/fd ${s.fromN}→${s.toN}`).join(', ')})`);
  }
  if (lane.traceMemory) {
    out.push(`gate peak memory: ${lane.traceMemory.bytesPerProcess} bytes per traced process from ${lane.traceMemory.fromExecs} to ${lane.traceMemory.toExecs} execs`);
  }
}

/** One row per target, one column per lane: the ratio to the bound (≤ 1.00 passes) and PASS or GAP. */
function renderTargets(r: BenchResults, out: string[]): void {
  out.push('', 'Targets (issue 13; the table target of issue 12): measured / bound, ≤ 1.00× passes');
  const t = table(['target', ...r.lanes.map((l) => `Node ${l.version}`)]);
  const names = [...new Set(r.lanes.flatMap((l) => l.targets.map((k) => k.name)))];
  for (const name of names) {
    t.push([name, ...r.lanes.map((l) => {
      const target = l.targets.find((k) => k.name === name);
      if (!target) return '-';
      if (target.status === 'N/A') return `N/A (${target.detail})`;
      return `${target.ratio !== undefined ? `${target.ratio.toFixed(2)}× ` : ''}${target.status}: ${target.detail}`;
    })]);
  }
  out.push(t.toString());
}

/** Issue 25's table: one row per line, its bound, and per lane the ratio to it with PASS or GAP. */
function renderIssue25(r: BenchResults, out: string[]): void {
  if (!r.lanes.some((l) => l.issue25)) return;
  out.push('', 'Issue 25 (speed, third round): measured / bound, ≤ 1.00× passes');
  const t = table(['row', 'bound', ...r.lanes.map((l) => `Node ${l.version}`)]);
  const names = [...new Set(r.lanes.flatMap((l) => (l.issue25 ?? []).map((k) => k.name)))];
  for (const name of names) {
    const bound = r.lanes.flatMap((l) => l.issue25 ?? []).find((k) => k.name === name)?.bound ?? '';
    t.push([name, bound, ...r.lanes.map((l) => {
      const row = l.issue25?.find((k) => k.name === name);
      if (!row) return '-';
      if (row.status === 'N/A') return `N/A (${row.detail})`;
      return `${row.ratio!.toFixed(2)}× ${row.status}: ${row.detail}`;
    })]);
  }
  out.push(t.toString());
}

/** The whole report as text. */
export function renderReport(r: BenchResults): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`fdscan bench, ${r.date}`);
  out.push(`machine: ${m.cores} cores (${m.cpu}), Linux ${m.kernel}; ${[m.lsof ?? 'no lsof', m.lsfd ?? 'no lsfd', m.strace ?? 'no strace', m.make ?? 'no make', m.cc ?? 'no cc'].join('; ')}`);
  out.push(`${r.config.runs} timed runs per cell after ${r.config.warmup} warm-up, interleaved; wall ms as median [min–max]; peak RSS (ru_maxrss) median MiB.`);
  out.push('Measured on a shared machine: other jobs may add noise, so compare medians and prefer the ratios.');
  for (const lane of r.lanes) renderLane(r, lane, out);

  if (r.fleet && r.fleet.length > 0) {
    out.push('', `Fleet commands against the number of processes, Node ${process.version} (${r.config.slowRuns} runs; idle extra processes hold 7 descriptors each)`);
    const t = table(['command', ...r.fleet.flatMap((f) => [`${f.processes.toLocaleString('en-US')} processes ms`, 'MiB'])]);
    for (const cell of r.fleet[0]!.cells) {
      t.push([cell.label, ...r.fleet.flatMap((f) => {
        const c = f.cells.find((k) => k.id === cell.id);
        return [wall(c), rss(c)];
      })]);
    }
    out.push(t.toString());
    const per = fleetCostPerProcess(r.fleet);
    if (per.length > 0) out.push(`per extra process: ${per.map(([label, us]) => `${label} ${us.toFixed(0)} µs`).join(', ')}`);
  }

  renderTargets(r, out);
  renderIssue25(r, out);
  for (const note of r.notes) out.push(`note: ${note}`);
  const laneCells = r.lanes.flatMap((l) => [...l.audits.flatMap((a) => a.cells), ...(l.machineWide?.cells ?? []), ...l.tracing.cells,
    ...(l.traceMemory?.cells ?? []), ...(l.make?.cells ?? []), ...(l.origins?.cells ?? [])]);
  for (const cell of [...laneCells, ...(r.fleet ?? []).flatMap((f) => f.cells)]) {
    for (const failure of cell.failures) out.push(`! ${cell.label}: ${failure}`);
  }
  return out.join('\n');
}
