/**
 * 2,000 processes sharing one pipe: `fdscan --all --json` stays linear in processes plus
 * descriptors. Each of the ~4,000 rows on that pipe has 4,001 other holders; listing them all gave
 * 16 million peer entries (hundreds of MB of JSON, a GB of memory). Now a row lists the first
 * PEER_LIMIT and counts the rest. Bounds are on size and peak memory (ru_maxrss, from the kernel
 * at wait4), never on time.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PEER_LIMIT } from '../../src/probe-kit/contract.js';
import { fdscanBin, startFixture, type RunningFixture } from '../helpers/fixture.js';

const CHILDREN = 2000;
const linux = process.platform === 'linux';
let fixture: RunningFixture<{ pid: number; children: number[]; pipe: [number, number] }> | undefined;

test.after.always(async () => {
  const children = fixture?.manifest.children ?? [];
  await fixture?.stop();
  // They die with their parent (PR_SET_PDEATHSIG); make sure, without touching a reused pid.
  for (const pid of children) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'latin1') === 'sleep\x00600\x00') process.kill(pid, 'SIGKILL');
    } catch { /* gone */ }
  }
});

(linux ? test : test.skip)('--all --json with 2,000 processes on one pipe: peers capped per row, size and memory linear', async (t) => {
  // Starting 2,000 processes on a busy 2-core machine can take minutes: not a timing assertion.
  t.timeout(10 * 60_000);
  fixture = await startFixture('fork-pipe-holders.py', [String(CHILDREN)]);
  const { pid, children, pipe } = fixture.manifest;
  t.is(children.length, CHILDREN);
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-shared-pipe-'));
  try {
    const out = join(dir, 'all.json');
    // python3 waits for fdscan and reports the peak RSS of its child, as the kernel gave it at wait4.
    const measure = 'import resource, subprocess, sys\n' +
      'with open(sys.argv[1], "wb") as out:\n' +
      '    status = subprocess.run(sys.argv[2:], stdout=out).returncode\n' +
      'print(status, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)';
    const run = spawnSync('python3', ['-c', measure, out, process.execPath, fdscanBin, '--all', '--json'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    t.is(run.status, 0, run.stderr);
    const [status, maxRssKb] = run.stdout.trim().split(' ').map(Number) as [number, number];
    t.is(status, 0, run.stderr);

    const bytes = statSync(out).size;
    const document = JSON.parse(readFileSync(out, 'utf8')) as { processes: Array<{ pid: number; fds: Array<{ fd: number; peers?: unknown[]; peerCount?: number }> }> };
    const processes = document.processes.length;
    const rows = document.processes.reduce((n, p) => n + p.fds.length, 0);
    t.log(`${processes} processes, ${rows} descriptors: ${(bytes / 1e6).toFixed(1)} MB of JSON, peak RSS ${(maxRssKb / 1024).toFixed(0)} MiB`);

    // Every holder of the pipe is there; each row names PEER_LIMIT holders and counts all the others.
    const holders = new Set([pid, ...children]);
    const onPipe = document.processes.filter((p) => holders.has(p.pid)).flatMap((p) => p.fds.filter((d) => pipe.includes(d.fd)));
    t.is(onPipe.length, 2 * (CHILDREN + 1));
    for (const row of onPipe) {
      t.is(row.peers!.length, PEER_LIMIT);
      t.is(row.peerCount, 2 * (CHILDREN + 1) - 1);
    }
    // Linear bounds, generous per row and per process: listing every holder costs ~160 KB per pipe row.
    t.true(bytes <= 1_500 * rows + 5_000 * processes, `${bytes} bytes for ${rows} rows of ${processes} processes`);
    t.true(maxRssKb <= 150 * 1024 + 10 * rows, `peak RSS ${maxRssKb} KiB for ${rows} rows`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
