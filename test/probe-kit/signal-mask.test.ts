/**
 * The one signal-mask parser (src/probe-kit/signal-mask.ts), read against a real process that
 * ignores, blocks, catches and has pending known signals, the highest (64) among them; and the
 * tracer's pendingSignals (probes/linux/process-info.ts) on the same process.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { signalsInMask, statusSignals } from '../../src/probe-kit/signal-mask.js';
import { pendingSignals } from '../../probes/linux/process-info.js';

const linux = process.platform === 'linux' ? test : test.skip;

// SIGHUP (1) and signal 64 ignored, SIGUSR1 (10) blocked then raised (pending), SIGTERM (15) caught.
const PROGRAM = `
import signal, os, sys
signal.signal(signal.SIGHUP, signal.SIG_IGN)
signal.signal(64, signal.SIG_IGN)
signal.signal(signal.SIGTERM, lambda *a: None)
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
os.kill(os.getpid(), signal.SIGUSR1)
print('ready', flush=True)
sys.stdin.read()
`;

test('signalsInMask: bit N-1 is signal N, up to 64; an empty mask is none', (t) => {
  t.deepEqual(signalsInMask('0000000000000003'), [1, 2]);
  t.deepEqual(signalsInMask('8000000000000000'), [64]);
  t.deepEqual(signalsInMask('00000000000004A0'), [6, 8, 11]);
  t.deepEqual(signalsInMask(''), []);
});

linux('statusSignals and pendingSignals read what a real process ignores, blocks, catches and has pending', async (t) => {
  const child = spawn('python3', ['-c', PROGRAM], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const [line] = await once(child.stdout!, 'data') as [Buffer];
    t.is(line.toString().trim(), 'ready');
    const status = readFileSync(`/proc/${child.pid}/status`, 'latin1');
    const ignored = statusSignals(status, ['SigIgn']);
    t.true(ignored.includes(1) && ignored.includes(64), `SigIgn ${ignored.join(',')}`);
    t.deepEqual(statusSignals(status, ['SigBlk']), [10]);
    t.true(statusSignals(status, ['SigCgt']).includes(15));
    t.false(statusSignals(status, ['SigCgt']).includes(1));
    t.deepEqual(statusSignals(status, ['SigPnd', 'ShdPnd']), [10]);
    t.deepEqual(pendingSignals(child.pid!), [10]);
  } finally {
    child.kill('SIGKILL');
  }
  t.deepEqual(pendingSignals(2 ** 22 + 1), [], 'no such process: none');
});
