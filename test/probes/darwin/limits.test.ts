/**
 * The macOS descriptor limit: struct rlimit's values as DescriptorLimits on every OS; the real
 * getrlimit call on macOS only (skipped visibly elsewhere; not yet run on a real Mac).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { darwinDescriptorLimits, limitsFromRlimit } from '../../../probes/darwin/limits.js';
import { RLIM_INFINITY } from '../../../probes/darwin/libsystem.js';

const mac = process.platform === 'darwin' ? test : test.skip;

test('rlimit values become numbers; RLIM_INFINITY is null (unlimited)', (t) => {
  t.deepEqual(limitsFromRlimit(256n, 10240n), { soft: 256, hard: 10240 });
  t.deepEqual(limitsFromRlimit(256n, RLIM_INFINITY), { soft: 256, hard: null });
  t.deepEqual(limitsFromRlimit(RLIM_INFINITY, RLIM_INFINITY), { soft: null, hard: null });
  t.is(RLIM_INFINITY, 0x7fffffffffffffffn);
});

test('another process\'s limit is unknown on macOS (undefined), without any native call', (t) => {
  t.is(darwinDescriptorLimits(process.pid + 1), undefined);
});

mac('fdscan\'s own limit is what the shell\'s ulimit -n says in a child started with it', (t) => {
  const limits = darwinDescriptorLimits(process.pid);
  t.truthy(limits);
  const shell = spawnSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' });
  const [soft, hard] = shell.stdout.trim().split('\n').map((v) => (v === 'unlimited' ? null : Number(v)));
  t.deepEqual(limits, { soft: soft!, hard: hard! });
});
