/**
 * `npm run bench`: fdscan against lsof, lsfd, strace, a C floor and Node's own start-up, on each
 * Node it is measured on (a lane each: the machine's, and Node 26 fetched like the CI lane): a
 * process holding 30 / 1,000 / 10,000 / 19,000 descriptors; the whole machine with 1,000+
 * processes; tracing a script of 500 execs and a `make -j2` of 100 compiler runs; memory per
 * descriptor and per traced process; top and metrics against the number of processes. Prints the
 * tables and every target with its ratio and PASS or GAP, and writes bench/results.json (schema
 * fdscan/bench@2). Timings are never asserted.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { timeContenders, type Contender } from './cells.js';
import { parseConfig, type BenchConfig } from './config.js';
import { benchFleet, startCrowd } from './fleet.js';
import { startHolder, type Holder } from './holder.js';
import { nodeLanes, type NodeLane } from './lanes.js';
import { buildNativeTools, repoRoot, type NativeTools } from './native.js';
import { renderReport } from './report.js';
import { auditRatios, evaluateTargets, issue25Rows, memoryGrowth, type AuditRun, type BenchResults, type LaneResults } from './results.js';
import { ensureTools, type Tools } from './tools.js';

const fdscan = join(repoRoot, 'bin', 'fdscan.js');

/** True when this fdscan has `command` (its help names it; unknown commands fall back to the audit help). */
export function hasSubcommand(node: string, command: string): boolean {
  const run = spawnSync(node, [fdscan, command, '--help'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return run.status === 0 && new RegExp(`fdscan ${command}\\b`).test(run.stdout);
}

/** Below this many descriptors the audit is about start-up: compared with plain `lsof -p`. */
const SMALL = 100;

function auditContenders(node: string, pid: number, n: number, native: NativeTools, tools: Tools): Contender[] {
  const p = String(pid);
  const list: Contender[] = [{ id: 'fdscan', label: 'fdscan PID --json', argv: [node, fdscan, p, '--json'] }];
  // The table as a 120-column colour terminal gets it (wrapped targets, painted cells), written to /dev/null.
  if (n === 10000) list.push({ id: 'fdscanTable', label: 'fdscan PID (table, 120 columns, colour)', argv: [node, fdscan, p], env: { COLUMNS: '120', FORCE_COLOR: '1' } });
  if (tools.lsof && n <= SMALL) list.push({ id: 'lsofPlain', label: 'lsof -p PID', argv: ['lsof', '-p', p] });
  // Issue 25's bound at 30 descriptors: lsof without name look-ups, as the --all row runs it.
  if (tools.lsof && n <= SMALL) list.push({ id: 'lsofPlainNP', label: 'lsof -n -P -p PID', argv: ['lsof', '-n', '-P', '-p', p] });
  if (tools.lsof) list.push({ id: 'lsof', label: 'lsof +fg -n -P -p PID', argv: ['lsof', '+fg', '-n', '-P', '-p', p] });
  if (tools.lsfd) list.push({ id: 'lsfd', label: 'lsfd -J -p PID', argv: ['lsfd', '-J', '-p', p] });
  if (native.floor) list.push({ id: 'floor', label: 'C floor (readdir+readlinkat+fdinfo)', argv: [native.floor, p] });
  list.push({ id: 'node', label: 'node -e 0', argv: [node, '-e', '0'] });
  return list;
}

/** Rows of fdscan's JSON for `pid`: checks it read every descriptor (untimed). */
function fdscanRows(node: string, pid: number): number | undefined {
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

async function benchAudits(lane: NodeLane, config: BenchConfig, native: NativeTools, tools: Tools): Promise<AuditRun[]> {
  const audits: AuditRun[] = [];
  for (const n of config.sizes) {
    let holder: Holder | undefined;
    try {
      holder = await startHolder(n, native.holder);
      progress(lane, `N=${n} (holder pid ${holder.pid}, ${holder.count} open), ${config.runs} runs`);
      const cells = timeContenders(auditContenders(lane.node, holder.pid, n, native, tools), config.runs, config.warmup, native.measure, { lsof: [0, 1], lsofPlain: [0, 1], lsofPlainNP: [0, 1] });
      audits.push({ n, held: holder.count, fdscanRows: fdscanRows(lane.node, holder.pid), cells, ratios: auditRatios(cells) });
    } finally {
      await holder?.stop();
    }
  }
  return audits;
}

/** `fdscan --all --json` and `lsof -n -P` with the machine brought to `config.allProcesses` processes. */
async function benchMachine(lane: NodeLane, config: BenchConfig, native: NativeTools, tools: Tools): Promise<LaneResults['machineWide']> {
  const extra = Math.max(0, config.allProcesses - machineCounts().processes + 10);
  const stop = await startCrowd(extra);
  try {
    const counts = machineCounts();
    progress(lane, `whole machine, ${counts.processes} processes (${extra} extra), ${config.slowRuns} runs`);
    const contenders: Contender[] = [{ id: 'fdscanAll', label: 'fdscan --all --json', argv: [lane.node, fdscan, '--all', '--json'] }];
    if (tools.lsof) contenders.push({ id: 'lsofAll', label: 'lsof -n -P', argv: ['lsof', '-n', '-P'] });
    // lsof exits 1 when some process could not be read; that is not a failed run.
    return { ...counts, extra, cells: timeContenders(contenders, config.slowRuns, config.warmup, native.measure, { lsofAll: [0, 1] }) };
  } finally {
    await stop();
  }
}

/** A script that execs /bin/true `execs` times (`true` alone is a shell builtin). */
function execScript(workdir: string, execs: number): string {
  const script = join(workdir, `exec-true-${execs}.sh`);
  writeFileSync(script, `i=0\nwhile [ "$i" -lt ${execs} ]; do /bin/true; i=$((i + 1)); done\n`);
  return script;
}

function benchTracing(lane: NodeLane, config: BenchConfig, native: NativeTools, tools: Tools, workdir: string): LaneResults['tracing'] {
  const script = execScript(workdir, config.execs);
  const gate = hasSubcommand(lane.node, 'gate');
  const inheritDiff = hasSubcommand(lane.node, 'inherit-diff');
  const contenders: Contender[] = [{ id: 'bare', label: 'sh exec-true.sh', argv: ['sh', script] }];
  if (tools.strace) contenders.push({ id: 'strace', label: 'strace -f --seccomp-bpf -e trace=execve', argv: ['strace', '-f', '--seccomp-bpf', '-e', 'trace=execve', '-o', '/dev/null', 'sh', script] });
  if (gate) contenders.push({ id: 'gate', label: 'fdscan gate -- sh exec-true.sh', argv: [lane.node, fdscan, 'gate', '--', 'sh', script] });
  // The cost of origins (issue 21): the same gate without its seccomp filter and stops.
  if (gate && hasOrigins(lane.node)) contenders.push({ id: 'gateNoOrigins', label: 'fdscan gate --no-origins -- sh exec-true.sh', argv: [lane.node, fdscan, 'gate', '--no-origins', '--', 'sh', script] });
  if (inheritDiff) contenders.push({ id: 'inheritDiff', label: 'fdscan inherit-diff -- sh exec-true.sh', argv: [lane.node, fdscan, 'inherit-diff', '--', 'sh', script] });
  progress(lane, `tracing ${config.execs} execs, ${config.slowRuns} runs`);
  // gate exits 1 on a finding; the time still counts.
  const cells = timeContenders(contenders, config.slowRuns, config.warmup, native.measure, { gate: [0, 1], gateNoOrigins: [0, 1], inheritDiff: [0, 1] });
  return { execs: config.execs, gate, inheritDiff, cells };
}

/** Peak memory of the gate at a second, longer exec count: the growth per traced process. */
function benchTraceMemory(lane: NodeLane, config: BenchConfig, native: NativeTools, workdir: string, tracing: LaneResults['tracing']): LaneResults['traceMemory'] {
  if (config.memoryExecs <= config.execs || !tracing.gate || !native.measure) return undefined;
  const script = execScript(workdir, config.memoryExecs);
  progress(lane, `gate memory at ${config.memoryExecs} execs, ${config.slowRuns} runs`);
  const cells = timeContenders([{ id: 'gateLong', label: `fdscan gate -- sh (${config.memoryExecs} execs)`, argv: [lane.node, fdscan, 'gate', '--', 'sh', script] }],
    config.slowRuns, 0, native.measure, { gateLong: [0, 1] });
  const short = tracing.cells.find((c) => c.id === 'gate')?.maxRssKb?.median;
  const long = cells[0]?.maxRssKb?.median;
  if (short === undefined || long === undefined) return undefined;
  return { fromExecs: config.execs, toExecs: config.memoryExecs, bytesPerProcess: Math.round(((long - short) * 1024) / (config.memoryExecs - config.execs)), cells };
}

/** `make -j2` of `compiles` small C files, bare and under the gate (every object rebuilt: -B). */
function benchMake(lane: NodeLane, config: BenchConfig, native: NativeTools, tools: Tools, workdir: string): LaneResults['make'] {
  if (config.compiles === 0 || !tools.make || !native.compilerCommand || !hasSubcommand(lane.node, 'gate')) return undefined;
  const dir = join(workdir, 'make');
  mkdirSync(dir, { recursive: true });
  const objects: string[] = [];
  for (let i = 0; i < config.compiles; i++) {
    writeFileSync(join(dir, `f${i}.c`), `int f${i}(int x) { return x * ${i + 1}; }\n`);
    objects.push(`f${i}.o`);
  }
  writeFileSync(join(dir, 'Makefile'), `all: ${objects.join(' ')}\n%.o: %.c\n\t${native.compilerCommand} -O1 -c $< -o $@\n`);
  const make = ['make', '-s', '-B', '-j2', '-C', dir];
  progress(lane, `make -j2 of ${config.compiles} compiles, ${config.slowRuns} runs`);
  const cells = timeContenders([
    { id: 'makeBare', label: `make -j2 (${config.compiles} cc -c)`, argv: make },
    { id: 'makeGate', label: `fdscan gate -- make -j2 (${config.compiles} cc -c)`, argv: [lane.node, fdscan, 'gate', '--', ...make] },
    ...(hasOrigins(lane.node) ? [{ id: 'makeGateNoOrigins', label: `fdscan gate --no-origins -- make -j2 (${config.compiles} cc -c)`, argv: [lane.node, fdscan, 'gate', '--no-origins', '--', ...make] }] : []),
  ], config.slowRuns, config.warmup, native.measure, { makeGate: [0, 1], makeGateNoOrigins: [0, 1] });
  return { compiles: config.compiles, cells };
}

/** Whether this fdscan's gate has --no-origins (issue 21). */
function hasOrigins(node: string): boolean {
  return spawnSync(node, [fdscan, 'gate', '--help'], { encoding: 'utf8' }).stdout.includes('--no-origins');
}

/**
 * The worst case of origins: a program that makes `descriptors` inheritable descriptors (open
 * without O_CLOEXEC, close, again), each a seccomp stop with a stack; bare, under the gate, and
 * under the gate without origins.
 */
function benchOrigins(lane: NodeLane, config: BenchConfig, native: NativeTools, workdir: string): LaneResults['origins'] {
  if (config.originDescriptors === 0 || !native.compilerCommand || !hasOrigins(lane.node)) return undefined;
  const dir = join(workdir, 'origins');
  mkdirSync(dir, { recursive: true });
  const source = join(dir, 'make-inheritable.c');
  writeFileSync(source, [
    '#include <fcntl.h>', '#include <unistd.h>',
    'int main(void) {',
    `  for (int i = 0; i < ${config.originDescriptors}; i++) { int fd = open("/dev/null", O_RDONLY); if (fd < 0) return 1; close(fd); }`,
    '  return 0;', '}', '',
  ].join('\n'));
  const binary = join(dir, 'make-inheritable');
  const built = spawnSync('sh', ['-c', `${native.compilerCommand} -O1 -o ${binary} ${source}`], { encoding: 'utf8' });
  if (built.status !== 0) return undefined;
  progress(lane, `a program making ${config.originDescriptors} inheritable descriptors, ${config.slowRuns} runs`);
  const cells = timeContenders([
    { id: 'originsBare', label: `make-inheritable (${config.originDescriptors} opens)`, argv: [binary] },
    { id: 'originsGate', label: `fdscan gate -- make-inheritable (${config.originDescriptors})`, argv: [lane.node, fdscan, 'gate', '--', binary] },
    { id: 'originsGateOff', label: `fdscan gate --no-origins -- make-inheritable (${config.originDescriptors})`, argv: [lane.node, fdscan, 'gate', '--no-origins', '--', binary] },
  ], config.slowRuns, config.warmup, native.measure, { originsGate: [0, 1], originsGateOff: [0, 1] });
  return { descriptors: config.originDescriptors, cells };
}

function progress(lane: NodeLane, what: string): void {
  process.stderr.write(`bench [node ${lane.version}]: ${what}...\n`);
}

async function benchLane(lane: NodeLane, config: BenchConfig, native: NativeTools, tools: Tools, workdir: string): Promise<LaneResults> {
  const audits = await benchAudits(lane, config, native, tools);
  const machineWide = config.allProcesses > 0 || config.quick ? await benchMachine(lane, config, native, tools) : undefined;
  const tracing = benchTracing(lane, config, native, tools, workdir);
  const traceMemory = benchTraceMemory(lane, config, native, workdir, tracing);
  const make = benchMake(lane, config, native, tools, workdir);
  const origins = benchOrigins(lane, config, native, workdir);
  const partial = { node: lane.node, version: lane.version, audits, machineWide, tracing, traceMemory, make, origins, memory: memoryGrowth(audits) };
  return { ...partial, targets: evaluateTargets(partial), issue25: issue25Rows(partial) };
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
    const tools = ensureTools(config.install);
    const native = buildNativeTools(workdir);
    const notes = [...tools.notes, ...native.notes];
    const lanes: LaneResults[] = [];
    for (const lane of nodeLanes(config.nodes, notes)) lanes.push(await benchLane(lane, config, native, tools, workdir));
    // top and metrics against the number of processes: on the machine's Node only (not a target).
    const fleet = await benchFleet(config.crowds, config.slowRuns, config.warmup, native.measure, machineCounts,
      { top: hasSubcommand(process.execPath, 'top'), metrics: hasSubcommand(process.execPath, 'metrics') });
    const results: BenchResults = {
      schema: 'fdscan/bench@2',
      date: new Date().toISOString(),
      machine: {
        cores: cpus().length,
        cpu: cpus()[0]?.model.trim() ?? 'unknown',
        kernel: release(),
        lsof: tools.lsof,
        lsfd: tools.lsfd,
        strace: tools.strace,
        make: tools.make,
        cc: native.compiler,
      },
      config: { runs: config.runs, warmup: config.warmup, sizes: config.sizes, execs: config.execs, slowRuns: config.slowRuns, quick: config.quick,
        crowds: config.crowds, nodes: config.nodes, allProcesses: config.allProcesses, compiles: config.compiles, memoryExecs: config.memoryExecs },
      lanes,
      fleet,
      notes,
    };
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
