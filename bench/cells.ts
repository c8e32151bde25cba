/** Repeated, interleaved timing of several commands: one "cell" per command. */
import { measureOnce, type Sample } from './measure.js';
import { summarize, type Summary } from './stats.js';

export interface Contender {
  /** Stable key in results.json, e.g. "lsof". */
  id: string;
  /** Row label, e.g. "lsof +fg -n -P -p PID". */
  label: string;
  argv: string[];
  /** Variables set for this command on top of the bench's environment. */
  env?: NodeJS.ProcessEnv;
}

export interface Cell {
  id: string;
  label: string;
  /** The command as run, pids included. */
  argv: string[];
  wallMs?: Summary;
  maxRssKb?: Summary;
  /** Exit statuses other than 0, with the first stderr line. */
  failures: string[];
}

/**
 * Time every contender `runs` times after `warmup` untimed runs. Runs are interleaved and the
 * order rotates each round, so a noisy neighbour or a warming cache hits every command alike.
 */
export function timeContenders(contenders: Contender[], runs: number, warmup: number, measureBin: string | undefined,
  okStatuses: Record<string, number[]> = {}): Cell[] {
  const samples = new Map<string, Sample[]>(contenders.map((c) => [c.id, []]));
  const failures = new Map<string, string[]>(contenders.map((c) => [c.id, []]));
  for (let round = 0; round < warmup + runs; round++) {
    for (let k = 0; k < contenders.length; k++) {
      const contender = contenders[(k + round) % contenders.length]!;
      const sample = measureOnce(contender.argv, measureBin, contender.env ? { ...process.env, ...contender.env } : process.env);
      if (!(okStatuses[contender.id] ?? [0]).includes(sample.status)) {
        const list = failures.get(contender.id)!;
        if (list.length < 3) list.push(`exit ${sample.status}: ${sample.stderr.trim().split('\n')[0] ?? ''}`);
      }
      if (round >= warmup) samples.get(contender.id)!.push(sample);
    }
  }
  return contenders.map((c) => {
    const list = samples.get(c.id)!;
    const rss = list.map((s) => s.maxRssKb).filter((v): v is number => v !== undefined);
    return {
      id: c.id,
      label: c.label,
      argv: c.argv,
      wallMs: list.length > 0 ? summarize(list.map((s) => s.wallMs)) : undefined,
      maxRssKb: rss.length > 0 ? summarize(rss) : undefined,
      failures: failures.get(c.id)!,
    };
  });
}
