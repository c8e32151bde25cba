/**
 * What one native stack costs (probes/linux/native-stack.ts), per unwinder: a `gcc -g -O0`
 * program and Node itself, each held at the exit of its openat of a log by this thread, read
 * once with nothing cached (the process's first stack: module list, ELF, CFI, symbols) and then
 * REPEAT times from the cache. Prints microseconds (median, and the min-max of the runs).
 * Run: `npm run build && node dist/bench/native-stack.js [RUNS]`. Timings are never asserted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forgetNativeStacks, readNativeStack } from '../probes/linux/native-stack.js';
import { stopAtOpen } from '../test/helpers/stopped-at-open.js';

const RUNS = Number(process.argv[2]) || 10;
const REPEAT = 50;

const LEAKER = `#include <fcntl.h>
int open_the_log(const char *path) { return open(path, O_WRONLY | O_CREAT | O_APPEND, 0644); }
int main(int argc, char **argv) { return open_the_log(argv[1]) < 0; }
`;

const microseconds = (since: bigint): number => Number(process.hrtime.bigint() - since) / 1000;
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const range = (values: number[]): string => `${Math.round(Math.min(...values))}-${Math.round(Math.max(...values))}`;

/** First and cached cost of the stack of `program args` stopped at its open of `log`, RUNS times. */
function measure(program: string, args: string[], log: string): { first: number[]; cached: number[]; frames: number } {
  const first: number[] = [];
  const cached: number[] = [];
  let frames = 0;
  for (let run = 0; run < RUNS; run++) {
    const traced = stopAtOpen(program, args, log);
    try {
      let start = process.hrtime.bigint();
      const stack = readNativeStack(traced.pid, traced.tid);
      first.push(microseconds(start));
      if ('reason' in stack) throw new Error(`no stack: ${stack.reason}`);
      frames = stack.frames.length;
      const each: number[] = [];
      for (let i = 0; i < REPEAT; i++) {
        start = process.hrtime.bigint();
        readNativeStack(traced.pid, traced.tid);
        each.push(microseconds(start));
      }
      cached.push(median(each));
    } finally {
      forgetNativeStacks(traced.pid);
      traced.kill();
    }
  }
  return { first, cached, frames };
}

const dir = mkdtempSync(join(tmpdir(), 'fdscan-bench-stack-'));
try {
  writeFileSync(join(dir, 'leaker.c'), LEAKER);
  const cc = spawnSync('gcc', ['-g', '-O0', '-o', join(dir, 'leaker'), join(dir, 'leaker.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr}`);
  const log = join(dir, 'app.log');
  const programs: Array<[string, string, string[]]> = [
    ['leaker (gcc -g -O0)', join(dir, 'leaker'), [log]],
    ['node -e openSync', process.execPath, ['-e', 'require("fs").openSync(process.argv[1], "w")', log]],
  ];
  console.log(`native stack cost, ${RUNS} processes each; cached: median of ${REPEAT} reads of the same stop`);
  console.log('unwinder   program               frames  first us (median, min-max)  cached us (median, min-max)');
  for (const [unwinder, env] of [['libdw', {}], ['libunwind', { FDSCAN_LIBDW: 'libdw-not-loaded-by-this-bench.so' }]] as const) {
    Object.assign(process.env, env);
    for (const [label, program, args] of programs) {
      const { first, cached, frames } = measure(program, args, log);
      console.log(`${unwinder.padEnd(10)} ${label.padEnd(21)} ${String(frames).padStart(6)}  ${`${Math.round(median(first))} (${range(first)})`.padEnd(27)} ${Math.round(median(cached))} (${range(cached)})`);
    }
  }
  delete process.env.FDSCAN_LIBDW;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
