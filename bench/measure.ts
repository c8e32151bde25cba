/** Runs one command once and reports wall time and peak memory (ru_maxrss of that child). */
import { spawnSync } from 'node:child_process';

export interface Sample {
  wallMs: number;
  /** Peak resident set of the child in KiB; absent when measured without the native helper. */
  maxRssKb?: number;
  /** User plus system CPU of the child in ms (native helper only): steadier than wall on a loaded machine. */
  cpuMs?: number;
  status: number;
  stderr: string;
}

/** `argv` with stdout to /dev/null, through bench/native/measure.c when built, else timed here. */
export function measureOnce(argv: string[], measureBin: string | undefined, env: NodeJS.ProcessEnv = process.env): Sample {
  if (measureBin) {
    const run = spawnSync(measureBin, argv, { encoding: 'utf8', env, maxBuffer: 16 * 1024 * 1024 });
    const line = run.stdout.trim().split('\n').pop() ?? '';
    if (run.status !== 0 || !line.startsWith('{')) throw new Error(`measure ${argv.join(' ')} failed: ${run.stderr.trim()}`);
    const result = JSON.parse(line) as { wallNs: number; maxRssKb: number; userUs: number; sysUs: number; status: number };
    return { wallMs: result.wallNs / 1e6, maxRssKb: result.maxRssKb, cpuMs: (result.userUs + result.sysUs) / 1000, status: result.status, stderr: run.stderr };
  }
  const start = process.hrtime.bigint();
  const run = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  return { wallMs, status: run.status ?? 128, stderr: run.stderr ?? '' };
}
