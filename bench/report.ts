/** The bench's printed report: header, one table per question, targets with PASS/GAP. */
import Table from 'cli-table3';
import type { Cell } from './cells.js';
import type { BenchResults } from './results.js';
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

/** The whole report as text. */
export function renderReport(r: BenchResults): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`fdscan bench, ${r.date}`);
  out.push(`machine: ${m.cores} cores (${m.cpu}), Linux ${m.kernel}, Node ${m.node}; ${m.lsof ?? 'no lsof'}; ${m.lsfd ?? 'no lsfd'}; ${m.cc ?? 'no cc'}`);
  out.push(`${r.config.runs} timed runs per cell after ${r.config.warmup} warm-up, interleaved; wall ms as median [min–max]; peak RSS (ru_maxrss) median MiB.`);
  out.push('Measured on a shared machine: other jobs may add noise, so compare medians and prefer the ratios.');

  if (r.audits.length > 0) {
    out.push('', 'Audit of one process holding N descriptors (40% files, 20% pipes, 40% unix sockets + 4 TCP listeners; half close-on-exec)');
    const head = ['command'];
    for (const a of r.audits) head.push(`N=${a.held.toLocaleString('en-US')} ms`, 'MiB');
    const t = table(head);
    for (const cell of r.audits[0]!.cells) {
      const row = [cell.label];
      for (const a of r.audits) {
        const c = a.cells.find((k) => k.id === cell.id);
        row.push(wall(c), rss(c));
      }
      t.push(row);
    }
    const ratios: Array<[string, keyof BenchResults['audits'][number]['ratios']]> = [
      ['fdscan / lsof +fg', 'fdscanOverLsof'],
      ['fdscan / lsfd -J', 'fdscanOverLsfd'],
      ['(fdscan − node -e 0) / C floor', 'fdscanMinusNodeOverFloor'],
      ['fdscan table / fdscan --json', 'tableOverJson'],
    ];
    for (const [label, key] of ratios) t.push([label, ...r.audits.flatMap((a) => [x(a.ratios[key]), ''])]);
    out.push(t.toString());
    for (const a of r.audits) {
      if (a.fdscanRows !== undefined && a.fdscanRows !== a.held) out.push(`note: at N=${a.n} fdscan reported ${a.fdscanRows} rows for ${a.held} descriptors`);
    }
  }

  if (r.machineWide) {
    out.push('', `Whole machine: ${r.machineWide.processes} processes, ${r.machineWide.descriptors.toLocaleString('en-US')} descriptors (${r.config.slowRuns} runs)`);
    const t = table(['command', 'ms', 'MiB']);
    for (const cell of r.machineWide.cells) t.push([cell.label, wall(cell), rss(cell)]);
    out.push(t.toString());
  }

  out.push('', `Tracing overhead: a script that execs true ${r.tracing.execs} times (${r.config.slowRuns} runs)`);
  const t = table(['command', 'ms', 'MiB', 'vs bare']);
  const bare = r.tracing.cells.find((c) => c.id === 'bare')?.wallMs?.median;
  for (const cell of r.tracing.cells) {
    t.push([cell.label, wall(cell), rss(cell), bare && cell.wallMs ? x(cell.wallMs.median / bare) : '-']);
  }
  if (!r.tracing.gate) t.push(['fdscan gate -- sh exec-true.sh', 'not available yet', '-', '-']);
  if (!r.tracing.inheritDiff) t.push(['fdscan inherit-diff -- sh exec-true.sh', 'not available yet', '-', '-']);
  out.push(t.toString());

  if (r.fleet && r.fleet.length > 0) {
    out.push('', `Fleet commands against the number of processes (${r.config.slowRuns} runs; idle extra processes hold 7 descriptors each)`);
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

  if (r.memory) {
    out.push('', `fdscan peak memory: ${r.memory.bytesPerFd} bytes per descriptor from N=${r.memory.fromN} to N=${r.memory.toN}` +
      ` (${r.memory.slopes.map((s) => `${s.bytesPerFd} B/fd ${s.fromN}→${s.toN}`).join(', ')})`);
  }

  out.push('', 'Targets (issues 6 and 12)');
  const targets = table(['target', 'result', 'measured']);
  for (const target of r.targets) targets.push([target.name, target.status, target.detail]);
  out.push(targets.toString());
  for (const note of r.notes) out.push(`note: ${note}`);
  for (const cell of [...r.audits.flatMap((a) => a.cells), ...(r.machineWide?.cells ?? []), ...r.tracing.cells, ...(r.fleet ?? []).flatMap((f) => f.cells)]) {
    for (const failure of cell.failures) out.push(`! ${cell.label}: ${failure}`);
  }
  return out.join('\n');
}
