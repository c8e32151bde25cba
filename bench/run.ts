/**
 * `npm run bench`: fdscan against lsof, lsfd, a C floor and Node's own start-up, on a process
 * holding 1,000 / 10,000 / 19,000 descriptors; the whole machine; tracing overhead; top and
 * metrics against the number of processes. Prints the
 * tables and writes bench/results.json (schema fdscan/bench@1). Timings are never asserted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { timeContenders, type Contender } from './cells.js';
import { parseConfig, type BenchConfig } from './config.js';
import { benchFleet } from './fleet.js';
import { startHolder, type Holder } from './holder.js';
import { buildNativeTools, repoRoot, type NativeTools } from './native.js';
import { renderReport } from './report.js';
import { auditRatios, evaluateTargets, memoryGrowth, type AuditRun, type BenchResults } from './results.js';

const node = process.execPath;
const fdscan = join(repoRoot, 'bin', 'fdscan.js');

/** The first line a tool prints about its version, or undefined when it is not installed. */
function versionOf(command: string, args: string[], pattern: RegExp): string | undefined {
  const run = spawnSync(command, args, { encoding: 'utf8' });
  if (run.error) return undefined;
  const match = pattern.exec(`${run.stdout}\n${run.stderr}`);
  return match ? match[0].trim() : undefined;
}

/** True when this fdscan has `command` (its help names it; unknown commands fall back to the audit help). */
export function hasSubcommand(command: string): boolean {
  const run = spawnSync(node, [fdscan, command, '--help'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return run.status === 0 && new RegExp(`fdscan ${command}\\b`).test(run.stdout);
}

function auditContenders(pid: number, tools: NativeTools, have: { lsof: boolean; lsfd: boolean }): Contender[] {
  const p = String(pid);
  const list: Contender[] = [
    { id: 'fdscan', label: 'fdscan PID --json', argv: [node, fdscan, p, '--json'] },
    { id: 'fdscanNoPeers', label: 'fdscan PID --json --no-peers', argv: [node, fdscan, p, '--json', '--no-peers'] },
    // The table as a 120-column colour terminal gets it (wrapped targets, painted cells), written to /dev/null.
    { id: 'fdscanTable', label: 'fdscan PID (table, 120 columns, colour)', argv: [node, fdscan, p], env: { COLUMNS: '120', FORCE_COLOR: '1' } },
  ];
  if (have.lsof) list.push({ id: 'lsof', label: 'lsof +fg -n -P -p PID', argv: ['lsof', '+fg', '-n', '-P', '-p', p] });
  if (have.lsfd) list.push({ id: 'lsfd', label: 'lsfd -J -p PID', argv: ['lsfd', '-J', '-p', p] });
  if (tools.floor) list.push({ id: 'floor', label: 'C floor (readdir+readlinkat+fdinfo)', argv: [tools.floor, p] });
  list.push({ id: 'node', label: 'node -e 0', argv: [node, '-e', '0'] });
  return list;
}

/** Rows of fdscan's JSON for `pid`: checks it read every descriptor (untimed). */
function fdscanRows(pid: number): number | undefined {
  const run = spawnSync(node, [fdscan, String(pid), '--json'], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  try {
    return (JSON.parse(run.stdout) as { fds: unknown[] }).fds.length;
  } catch {
    return undefined;
  }
}

/** Processes and descriptors of the whole machine right now. */
function machineCounts(): { processes: number; descriptors: number } {
  let processes = 0;
  let descriptors = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      descriptors += readdirSync(`/proc/${name}/fd`).length;
      processes++;
    } catch { /* unreadable or gone */ }
  }
  return { processes, descriptors };
}

async function benchAudits(config: BenchConfig, tools: NativeTools, have: { lsof: boolean; lsfd: boolean }): Promise<AuditRun[]> {
  const audits: AuditRun[] = [];
  for (const n of config.sizes) {
    let holder: Holder | undefined;
    try {
      holder = await startHolder(n, tools.holder);
      process.stderr.write(`bench: N=${n} (holder pid ${holder.pid}, ${holder.count} open), ${config.runs} runs...\n`);
      const cells = timeContenders(auditContenders(holder.pid, tools, have), config.runs, config.warmup, tools.measure, { lsof: [0, 1] });
      audits.push({ n, held: holder.count, fdscanRows: fdscanRows(holder.pid), cells, ratios: auditRatios(cells) });
    } finally {
      await holder?.stop();
    }
  }
  return audits;
}

function benchMachine(config: BenchConfig, tools: NativeTools, have: { lsof: boolean }): BenchResults['machineWide'] {
  process.stderr.write(`bench: whole machine, ${config.slowRuns} runs...\n`);
  const contenders: Contender[] = [{ id: 'fdscanAll', label: 'fdscan --all --json', argv: [node, fdscan, '--all', '--json'] }];
  if (have.lsof) contenders.push({ id: 'lsofAll', label: 'lsof -n -P', argv: ['lsof', '-n', '-P'] });
  const counts = machineCounts();
  // lsof exits 1 when some process could not be read; that is not a failed run.
  return { ...counts, cells: timeContenders(contenders, config.slowRuns, config.warmup, tools.measure, { lsofAll: [0, 1] }) };
}

function benchTracing(config: BenchConfig, tools: NativeTools, workdir: string): BenchResults['tracing'] {
  const script = join(workdir, 'exec-true.sh');
  // `true` is a shell builtin; /bin/true is a real exec each time.
  writeFileSync(script, `i=0\nwhile [ "$i" -lt ${config.execs} ]; do /bin/true; i=$((i + 1)); done\n`);
  const gate = hasSubcommand('gate');
  const inheritDiff = hasSubcommand('inherit-diff');
  const contenders: Contender[] = [{ id: 'bare', label: 'sh exec-true.sh', argv: ['sh', script] }];
  if (gate) contenders.push({ id: 'gate', label: 'fdscan gate -- sh exec-true.sh', argv: [node, fdscan, 'gate', '--', 'sh', script] });
  if (inheritDiff) contenders.push({ id: 'inheritDiff', label: 'fdscan inherit-diff -- sh exec-true.sh', argv: [node, fdscan, 'inherit-diff', '--', 'sh', script] });
  process.stderr.write(`bench: tracing (${config.execs} execs; gate ${gate ? 'found' : 'not available yet'}, inherit-diff ${inheritDiff ? 'found' : 'not available yet'}), ${config.slowRuns} runs...\n`);
  // gate exits 1 on a finding; the time still counts.
  const cells = timeContenders(contenders, config.slowRuns, config.warmup, tools.measure, { gate: [0, 1], inheritDiff: [0, 1] });
  return { execs: config.execs, gate, inheritDiff, cells };
}

async function main(): Promise<void> {
  let config: BenchConfig;
  try {
    config = parseConfig(process.argv.slice(2), process.env, join(repoRoot, 'bench', 'results.json'));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  if (process.platform !== 'linux') {
    process.stderr.write('bench: Linux only for now (the holder, C floor, lsfd and /proc are Linux things)\n');
    process.exitCode = 2;
    return;
  }
  const workdir = mkdtempSync(join(tmpdir(), 'fdscan-bench-'));
  try {
    const tools = buildNativeTools(workdir);
    const have = {
      lsof: versionOf('lsof', ['-v'], /revision: *[\d.]+/) !== undefined,
      lsfd: versionOf('lsfd', ['--version'], /util-linux [\d.]+/) !== undefined,
    };
    const notes = [...tools.notes];
    if (!have.lsof) notes.push('lsof not installed: its rows are skipped');
    if (!have.lsfd) notes.push('lsfd not installed: its rows are skipped');
    const audits = await benchAudits(config, tools, have);
    const machineWide = benchMachine(config, tools, have);
    const tracing = benchTracing(config, tools, workdir);
    const fleet = await benchFleet(config.crowds, config.slowRuns, config.warmup, tools.measure, machineCounts,
      { top: hasSubcommand('top'), metrics: hasSubcommand('metrics') });
    const partial: Omit<BenchResults, 'targets'> = {
      schema: 'fdscan/bench@1',
      date: new Date().toISOString(),
      machine: {
        cores: cpus().length,
        cpu: cpus()[0]?.model.trim() ?? 'unknown',
        kernel: release(),
        node: process.version,
        lsof: have.lsof ? `lsof ${versionOf('lsof', ['-v'], /revision: *[\d.]+/)!.replace(/revision: */, '')}` : undefined,
        lsfd: have.lsfd ? `lsfd (${versionOf('lsfd', ['--version'], /util-linux [\d.]+/)})` : undefined,
        cc: tools.compiler,
      },
      config: { runs: config.runs, warmup: config.warmup, sizes: config.sizes, execs: config.execs, slowRuns: config.slowRuns, quick: config.quick, crowds: config.crowds },
      audits,
      machineWide,
      tracing,
      fleet,
      memory: memoryGrowth(audits),
      notes,
    };
    const results: BenchResults = { ...partial, targets: evaluateTargets(partial) };
    process.stdout.write(`${renderReport(results)}\n`);
    if (config.out) {
      // Write then rename, so an interrupted bench never leaves half a results file.
      writeFileSync(`${config.out}.tmp`, `${JSON.stringify(results, null, 2)}\n`);
      renameSync(`${config.out}.tmp`, config.out);
      process.stdout.write(`\nresults written to ${config.out}\n`);
    } else {
      process.stdout.write('\n(quick mode or --no-write: results not written)\n');
    }
  } finally {
    rmSync(workdir, { recursive: true, force: true });
  }
}

await main();
