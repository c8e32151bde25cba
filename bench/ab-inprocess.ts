/**
 * Before/after of a lever without Node's start-up: per round, one Node process per side loads that
 * checkout's library, makes one untimed call, then times `--calls` calls (CPU of the process, user +
 * system). Sides alternate which goes first. Two checkouts cannot share one process: koffi refuses
 * the second copy's type names, and that copy falls back to Node's slower fs reader.
 * Calls: `all` (auditAllProcesses), `pid` (auditProcesses of a holder of `--holder N` descriptors).
 * Only indicative on a loaded machine, like every number here.
 *
 *   node dist/bench/ab-inprocess.js --before /tmp/fdscan-before [--rounds 9] [--calls 3] [--crowd 900]
 *        [--holder 30] [--fields pid,command] [--types REG] [--no-peers] (all | pid)
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startCrowd } from './fleet.js';
import { startHolder, type Holder } from './holder.js';
import { buildNativeTools, repoRoot } from './native.js';
import { ms, ratio, summarize } from './stats.js';

type Library = typeof import('../src/index.js');

/** In a child: `ROOT WHAT PID CALLS PEERS FIELDS TYPES`; prints the CPU ms of each timed call, one a line. */
async function child([root, what, pid, calls, peers, fields, types]: string[]): Promise<void> {
  const lib = await import(pathToFileURL(join(root!, 'dist', 'src', 'index.js')).href) as Library;
  const options = { peers: peers === 'true', ...(fields ? { fields: fields.split(',') } : {}), ...(types ? { types: types.split(',') } : {}) };
  const call = (): void => void (what === 'all' ? lib.auditAllProcesses(options) : lib.auditProcesses([Number(pid)], options));
  call();
  for (let i = 0; i < Number(calls); i++) {
    const start = process.cpuUsage();
    call();
    const used = process.cpuUsage(start);
    process.stdout.write(`${(used.user + used.system) / 1000}\n`);
  }
}

async function main(args: string[]): Promise<void> {
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i === -1 ? undefined : args[i + 1];
  };
  const before = flag('--before');
  const what = args[args.length - 1];
  if (!before || (what !== 'all' && what !== 'pid')) throw new Error('usage: ab-inprocess.js --before CHECKOUT [--rounds N] [--calls N] [--crowd N] [--holder N] [--fields LIST] [--no-peers] all|pid');
  const rounds = Number(flag('--rounds') ?? 9);
  const calls = flag('--calls') ?? '3';
  const fields = flag('--fields') ?? '';
  const peers = String(!args.includes('--no-peers'));
  const stopCrowd = await startCrowd(Number(flag('--crowd') ?? 0));
  let holder: Holder | undefined;
  try {
    if (flag('--holder')) holder = await startHolder(Number(flag('--holder')), buildNativeTools().holder);
    const self = fileURLToPath(import.meta.url);
    const cpu: Record<'before' | 'after', number[]> = { before: [], after: [] };
    for (let round = 0; round < rounds; round++) {
      for (const name of round % 2 ? (['after', 'before'] as const) : (['before', 'after'] as const)) {
        // The before side may not know `fields`: it is given to the after side only.
        const run = spawnSync(process.execPath, [self, '--child', name === 'before' ? before : repoRoot, what, String(holder?.pid ?? 1), calls, peers,
          name === 'after' ? fields : '', flag('--types') ?? ''], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
        if (run.status !== 0) throw new Error(`${name} side failed (exit ${run.status})`);
        cpu[name].push(...run.stdout.trim().split('\n').map(Number));
      }
    }
    const stat = (name: 'before' | 'after') => summarize(cpu[name]);
    const [b, a] = [stat('before'), stat('after')];
    process.stdout.write(`${what}${flag('--types') ? ` -t ${flag('--types')}` : ''}${fields ? ` (after: fields ${fields})` : ''}${peers === 'true' ? '' : ' --no-peers'}, ${rounds} rounds × ${calls} calls, CPU ms per call: ` +
      `median before ${ms(b.median)}, after ${ms(a.median)} (${ratio(a.median, b.median)}); min before ${ms(b.min)}, after ${ms(a.min)} (${ratio(a.min, b.min)})\n`);
  } finally {
    await holder?.stop();
    await stopCrowd();
  }
}

if (process.argv[2] === '--child') await child(process.argv.slice(3));
else await main(process.argv.slice(2));
