/** The bench builds its C helpers and runs end to end in quick mode. Timings are never asserted. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildNativeTools, findCompiler, repoRoot } from '../../bench/native.js';

const skip = process.platform !== 'linux';
const noCompiler = skip || findCompiler() === undefined;

(noCompiler ? test.skip : test)('the holder, C floor and measure programs compile', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-bench-test-'));
  try {
    const tools = buildNativeTools(dir);
    t.deepEqual(tools.notes, []);
    t.truthy(tools.floor && tools.measure && tools.holder);
    const sample = spawnSync(tools.measure!, [tools.floor!, String(process.pid)], { encoding: 'utf8' });
    const result = JSON.parse(sample.stdout) as { wallNs: number; maxRssKb: number; status: number };
    t.is(result.status, 0);
    t.true(result.wallNs > 0 && result.maxRssKb > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

(skip ? test.skip : test)('npm run bench -- --quick runs end to end', (t) => {
  const run = spawnSync(process.execPath, [join(repoRoot, 'dist', 'bench', 'run.js'), '--quick', '--runs', '1', '--no-write'], { encoding: 'utf8' });
  t.is(run.status, 0, run.stderr);
  t.regex(run.stdout, /fdscan PID --json/);
  t.regex(run.stdout, /fdscan table \/ fdscan --json/);
  t.regex(run.stdout, /Targets \(issue 13/);
  // Every target of issue 13 is printed with a verdict (or N/A and why) on this Node. With one run a
  // noisy `node -e 0` can take longer than fdscan: its own work, and the ratio, come out below zero.
  for (const target of [/fdscan ≤ min\(lsof \+fg, lsfd -J\)/, /fdscan − node -e 0 ≤ lsof -p +│ -?[\d.]+× (PASS|GAP)/, /--all, the whole machine: fdscan ≤ lsof -n -P +│ [\d.]+× (PASS|GAP): .* at [\d,]+ processes/,
    /gate, 50 execs: ≤ 1.2 × strace/, /inherit-diff, 50 execs: ≤ 1.5 × bare/, /make -j2 of 4 compiles under gate/, /≤ 4 KB per descriptor/, /≤ 2 KB per traced process/]) {
    t.regex(run.stdout, target);
  }
  // Issue 25's four rows, each with its bound and a verdict (or N/A and why).
  t.regex(run.stdout, /Issue 25 \(speed, third round\)/);
  for (const row of [/descriptors, fdscan's own work \(− node -e 0\) vs lsof -n -P -p +│ ≤ 1\.0× +│ (-?[\d.]+× (PASS|GAP)|N\/A)/,
    /--all --json vs lsof -n -P +│ ≤ 1\.0× +│ ([\d.]+× (PASS|GAP)|N\/A)/, /gate on 50 execs vs strace -f --seccomp-bpf -e trace=execve +│ ≤ 1\.2× +│ ([\d.]+× (PASS|GAP)|N\/A)/,
    /audit of 10,000 descriptors vs the fastest of lsof \+fg \/ lsfd -J +│ ≤ 1\.0× +│ ([\d.]+× (PASS|GAP)|N\/A)/]) {
    t.regex(run.stdout, row);
  }
  t.regex(run.stdout, /results not written/);
  t.regex(run.stdout, /Fleet commands against the number of processes/);
  t.regex(run.stdout, /fdscan metrics --all/);
  t.regex(run.stdout, /fdscan top/);
});
