/**
 * The fleet commands against the number of processes on the machine: `fdscan top`,
 * `fdscan metrics --all` (with and without --by-type) and, for reference, the full audit of every
 * process, each timed with the machine as it is and with a crowd of N extra idle processes.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { timeContenders, type Cell, type Contender } from './cells.js';
import { repoRoot } from './native.js';

export interface FleetRun {
  /** Extra processes started for this row. */
  extra: number;
  /** Processes and descriptors on the machine while it was measured. */
  processes: number;
  descriptors: number;
  cells: Cell[];
}

/** Start `n` idle processes; resolves with a stop function once they are all up. */
export async function startCrowd(n: number): Promise<() => Promise<void>> {
  if (n === 0) return async () => {};
  const child = spawn('python3', [join(repoRoot, 'bench', 'crowd.py'), String(n)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', () => resolve());
    child.once('exit', (code) => reject(new Error(`the crowd of ${n} exited with ${code} before it was up`)));
  });
  return async () => {
    child.stdin!.end();
    await exited;
  };
}

/** Time the fleet commands with each crowd size; `counts` measures the machine. */
export async function benchFleet(crowds: number[], runs: number, warmup: number, measureBin: string | undefined,
  counts: () => { processes: number; descriptors: number }, have: { top: boolean; metrics: boolean }): Promise<FleetRun[]> {
  const node = process.execPath;
  const fdscan = join(repoRoot, 'bin', 'fdscan.js');
  const contenders: Contender[] = [];
  if (have.top) contenders.push({ id: 'top', label: 'fdscan top', argv: [node, fdscan, 'top'] });
  if (have.metrics) {
    contenders.push({ id: 'metrics', label: 'fdscan metrics --all', argv: [node, fdscan, 'metrics', '--all'] });
    contenders.push({ id: 'metricsByType', label: 'fdscan metrics --all --by-type', argv: [node, fdscan, 'metrics', '--all', '--by-type'] });
  }
  contenders.push({ id: 'auditAll', label: 'fdscan --all --json (reference)', argv: [node, fdscan, '--all', '--json', '--no-peers'] });
  const rows: FleetRun[] = [];
  for (const extra of crowds) {
    const stop = await startCrowd(extra);
    try {
      const machine = counts();
      process.stderr.write(`bench: fleet, ${machine.processes} processes (${extra} extra), ${runs} runs...\n`);
      rows.push({ extra, ...machine, cells: timeContenders(contenders, runs, warmup, measureBin) });
    } finally {
      await stop();
    }
  }
  return rows;
}
