/**
 * Huge tables: a process holding 19,000 descriptors, a tenth of them on paths of ~4,000 bytes.
 * fdscan reports every one, and its peak memory grows linearly with the count.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fdscanBin, startFixture } from '../helpers/fixture.js';

const linux = process.platform === 'linux' ? test.serial : test.serial.skip;

interface Many { pid: number; fds: number; long: Record<string, string>; pathLength: number }

/** Generous bound on fdscan's memory per descriptor (a row with a 4,000-byte path is ~5 KB of JSON). */
const MAX_BYTES_PER_DESCRIPTOR = 20 * 1024;

/** Run `fdscan PID --json --no-peers` with stdout to a file; its peak RSS (ru_maxrss) in bytes. */
function auditWithPeakRss(pid: number, out: string): { code: number; maxRss: number } {
  const wrapper = `import resource, subprocess, sys
with open(sys.argv[3], 'wb') as out:
    code = subprocess.run([sys.argv[1], sys.argv[2], sys.argv[4], '--json', '--no-peers'], stdout=out).returncode
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)`;
  const result = spawnSync('python3', ['-c', wrapper, process.execPath, fdscanBin, out, String(pid)], { encoding: 'utf8' });
  const [code, maxRss] = result.stdout.trim().split(' ').map(Number);
  return { code: code!, maxRss: maxRss! };
}

linux('19,000 descriptors with 4,000-byte paths: all reported, memory linear in the count', async (t) => {
  const measured: Array<{ fds: number; maxRss: number }> = [];
  for (const count of [2000, 19000]) {
    const fixture = await startFixture<Many>('hold-many.py', [String(count)]);
    try {
      t.true(fixture.manifest.pathLength >= 3990 && fixture.manifest.pathLength < 4096, `path length ${fixture.manifest.pathLength}`);
      const out = join(fixture.workdir, 'audit.json');
      const { code, maxRss } = auditWithPeakRss(fixture.pid, out);
      t.is(code, 0);
      const document = JSON.parse(readFileSync(out, 'utf8')) as { fds: Array<{ fd: number; target: string; error?: string }>; incomplete?: boolean };
      t.is(document.fds.length, fixture.manifest.fds, 'every descriptor reported');
      t.is(document.incomplete, undefined);
      const byFd = new Map(document.fds.map((d) => [d.fd, d]));
      const wrong = Object.entries(fixture.manifest.long).filter(([fd, path]) => byFd.get(Number(fd))?.target !== path);
      t.deepEqual(wrong.map(([fd]) => fd), [], 'long paths shown whole');
      t.deepEqual(document.fds.filter((d) => d.error !== undefined).map((d) => d.fd), []);
      measured.push({ fds: fixture.manifest.fds, maxRss });
    } finally {
      await fixture.stop();
    }
  }
  const [small, big] = measured as [{ fds: number; maxRss: number }, { fds: number; maxRss: number }];
  const perDescriptor = (big.maxRss - small.maxRss) / (big.fds - small.fds);
  t.log(`peak RSS ${(small.maxRss / 2 ** 20).toFixed(1)} MiB at ${small.fds} fds, ${(big.maxRss / 2 ** 20).toFixed(1)} MiB at ${big.fds}: ${Math.round(perDescriptor)} bytes per descriptor`);
  t.true(perDescriptor < MAX_BYTES_PER_DESCRIPTOR, `${Math.round(perDescriptor)} bytes per descriptor`);
  t.true(big.maxRss < small.maxRss + big.fds * MAX_BYTES_PER_DESCRIPTOR);
});
