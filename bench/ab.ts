/**
 * Before/after of one lever: the same fdscan command from two checkouts, interleaved (A B, then
 * B A, ...), each through bench/native/measure.c; prints median wall, CPU (user + system) and peak
 * RSS of each, and after/before. `PID` in the command is the pid of a holder of `--holder N`
 * descriptors, `SCRIPT` a script exec'ing /bin/true `--execs N` times; `--crowd N` starts N idle
 * processes first. On a loaded machine the CPU medians are the steadier measure; both are only
 * indicative there.
 *
 *   node dist/bench/ab.js --before /tmp/fdscan-before [--node PATH] [--runs 15] [--holder 30]
 *        [--crowd 1000] [--execs 500] [--after-args '--fields pid'] -- PID --json
 *
 * `--after-args` adds arguments to the after side only (an option the before side lacks).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCrowd } from './fleet.js';
import { startHolder, type Holder } from './holder.js';
import { measureOnce, type Sample } from './measure.js';
import { buildNativeTools, repoRoot } from './native.js';
import { ms, ratio, summarize } from './stats.js';

interface Options { before: string; node: string; runs: number; holder?: number; crowd: number; execs?: number; args: string[]; afterArgs: string[] }

function parse(args: string[]): Options {
  const options: Options = { before: '', node: process.execPath, runs: 15, crowd: 0, args: [], afterArgs: [] };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]!;
    const value = (): string => args[++i] ?? (() => { throw new Error(`${flag} needs a value`); })();
    if (flag === '--') { options.args = args.slice(i + 1); break; }
    if (flag === '--before') options.before = value();
    else if (flag === '--node') options.node = value();
    else if (flag === '--runs') options.runs = Number(value());
    else if (flag === '--holder') options.holder = Number(value());
    else if (flag === '--crowd') options.crowd = Number(value());
    else if (flag === '--execs') options.execs = Number(value());
    else if (flag === '--after-args') options.afterArgs = value().split(' ').filter(Boolean);
    else throw new Error(`unknown flag ${flag}`);
  }
  if (!options.before || options.args.length === 0) throw new Error('usage: ab.js --before CHECKOUT [--node N] [--runs N] [--holder N] [--crowd N] [--execs N] -- ARGS');
  return options;
}

const median = (samples: Sample[], pick: (s: Sample) => number | undefined): number | undefined => {
  const values = samples.map(pick).filter((v): v is number => v !== undefined);
  return values.length ? summarize(values).median : undefined;
};

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  const workdir = mkdtempSync(join(tmpdir(), 'fdscan-ab-'));
  const native = buildNativeTools(workdir);
  let holder: Holder | undefined;
  const stopCrowd = await startCrowd(options.crowd);
  try {
    if (options.holder !== undefined) holder = await startHolder(options.holder, native.holder);
    const script = join(workdir, 'exec-true.sh');
    if (options.execs !== undefined) writeFileSync(script, `i=0\nwhile [ "$i" -lt ${options.execs} ]; do /bin/true; i=$((i + 1)); done\n`);
    const args = options.args.map((a) => (a === 'PID' && holder ? String(holder.pid) : a === 'SCRIPT' ? script : a));
    const sides = [['before', join(options.before, 'bin', 'fdscan.js')], ['after', join(repoRoot, 'bin', 'fdscan.js')]] as const;
    const samples: Record<string, Sample[]> = { before: [], after: [] };
    for (let round = 0; round <= options.runs; round++) {
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      for (const [name, fdscan] of order) {
        const sample = measureOnce([options.node, fdscan, ...args, ...(name === 'after' ? options.afterArgs : [])], native.measure);
        if (round > 0) samples[name]!.push(sample); // round 0 warms the page cache
      }
    }
    const row = (name: string): string => {
      const s = samples[name]!;
      const kb = median(s, (x) => x.maxRssKb);
      return `${name.padEnd(6)} wall ${ms(median(s, (x) => x.wallMs))} ms, CPU ${ms(median(s, (x) => x.cpuMs))} ms, peak ${kb === undefined ? '-' : (kb / 1024).toFixed(1)} MiB (exit ${[...new Set(s.map((x) => x.status))].join(',')})`;
    };
    process.stdout.write(`node ${options.node}; ${options.runs} rounds interleaved; fdscan ${args.join(' ')}${options.afterArgs.length ? ` (after: + ${options.afterArgs.join(' ')})` : ''}\n${row('before')}\n${row('after')}\n`);
    const cpu = (name: string) => median(samples[name]!, (x) => x.cpuMs);
    const wall = (name: string) => median(samples[name]!, (x) => x.wallMs);
    process.stdout.write(`after/before: wall ${ratio(wall('after'), wall('before'))}, CPU ${ratio(cpu('after'), cpu('before'))}\n`);
  } finally {
    await holder?.stop();
    await stopCrowd();
    rmSync(workdir, { recursive: true, force: true });
  }
}

await main();
