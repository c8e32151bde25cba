/** `fdscan watch` on a process that opens a file every 100 ms, across an exec of the same pid. */
import test from 'ava';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { runCli } from '../helpers/cli.js';
import { fdscanBin, startFixture } from '../helpers/fixture.js';

const linux = process.platform === 'linux' ? test : test.skip;

interface WatchDocument {
  schema: string;
  pid: number;
  counts: number[];
  growth: number;
  stayed: Array<{ fd: number; type: string; target: string; firstSeen: number }>;
  execs: Array<{ sample: number; argv: string[] }>;
  ended: string;
}

linux('--count N: growth of the count and the files that appeared and stayed', async (t) => {
  const fixture = await startFixture<{ pid: number }>('open-file-every-100ms.py');
  try {
    const result = runCli(['watch', String(fixture.pid), '--interval', '200ms', '--count', '4', '--json']);
    t.is(result.code, 0, result.stderr);
    const doc = JSON.parse(result.stdout) as WatchDocument;
    t.is(doc.schema, 'fdscan/watch@1');
    t.is(doc.pid, fixture.pid);
    t.is(doc.counts.length, 4);
    t.is(doc.ended, 'count');
    for (let i = 1; i < doc.counts.length; i++) t.true(doc.counts[i]! > doc.counts[i - 1]!, doc.counts.join(' '));
    t.true(doc.growth >= 3);
    t.true(doc.stayed.length >= 2);
    for (const d of doc.stayed) {
      t.is(d.type, 'REG');
      t.true(d.target.startsWith(`${fixture.workdir}/file-`), d.target);
      t.true(d.firstSeen >= 1);
    }
  } finally {
    await fixture.stop();
  }
});

linux('an exec of the same pid is reported, the growth continues across it, Ctrl-C prints the summary', async (t) => {
  const fixture = await startFixture<{ pid: number }>('open-file-every-100ms.py');
  const watch = spawn(process.execPath, [fdscanBin, 'watch', String(fixture.pid), '--interval', '150ms'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NO_COLOR: '1' } });
  try {
    const exited = new Promise<number | null>((resolve) => watch.once('exit', (code) => resolve(code)));
    let stdout = '';
    const lines = createInterface({ input: watch.stdout });
    await new Promise<void>((resolve) => lines.on('line', (line) => {
      stdout += `${line}\n`;
      if (/^sample 1 /.test(line)) fixture.child.stdin!.write('exec\n');
      if (/; exec: .* reloaded$/.test(line)) resolve();
    }));
    watch.kill('SIGINT');
    t.is(await exited, 0);
    t.regex(stdout, new RegExp(`summary for pid ${fixture.pid} \\(\\d+ samples, interrupted\\): first \\d+, last \\d+, min \\d+, max \\d+; growth \\+\\d+`));
    t.regex(stdout, /exec at sample \d+: \S+ \S+open-file-every-100ms\.py \S+ reloaded/);
    t.regex(stdout, /descriptors? appeared and stayed:\n {4}fd \d+ +REG +\S+file-\d+/);
  } finally {
    watch.kill('SIGKILL');
    await fixture.stop();
  }
});

/** `fdscan ARGS`, without blocking this process, so that it reaps the watched child when it exits. */
/**
 * `fdscan watch` of a process that the test ends once fdscan is sampling it: no duration to guess
 * on a loaded machine. Sampling has begun when fdscan printed a sample (text) or loaded its native
 * reader, koffi, which its first read does (JSON prints nothing before the end).
 */
async function watchUntilEnded(json: boolean): Promise<{ code: number | null; stdout: string; pid: number }> {
  const watched = spawn('sleep', ['600'], { stdio: 'ignore' });
  const gone = new Promise((resolve) => watched.once('exit', resolve));
  const child = spawn(process.execPath, [fdscanBin, 'watch', String(watched.pid), '--interval', '100ms', ...(json ? ['--json'] : [])], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  const closed = new Promise<number | null>((resolve) => child.once('close', (status) => resolve(status)));
  const sampling = (): boolean => json ? readMaps(child.pid!).includes('koffi') : /^sample 1 /m.test(stdout);
  for (let i = 0; i < 600 && !sampling(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 300)); // a few more samples
  watched.kill('SIGKILL');
  await gone;
  return { code: await closed, stdout, pid: watched.pid! };
}

function readMaps(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/maps`, 'latin1');
  } catch {
    return '';
  }
}

for (const json of [false, true]) {
  linux(`without --count, the watch ends by itself when the process exits, exit 0${json ? ' (--json)' : ''}`, async (t) => {
    const result = await watchUntilEnded(json);
    t.is(result.code, 0);
    if (json) {
      const doc = JSON.parse(result.stdout) as WatchDocument;
      t.is(doc.ended, 'exited');
      t.is(doc.pid, result.pid);
      t.true(doc.counts.length >= 2, doc.counts.join(' '));
    } else {
      t.regex(result.stdout, new RegExp(`^summary for pid ${result.pid} \\(\\d+ samples, the process exited\\): first \\d+, last \\d+, min \\d+, max \\d+`, 'm'), result.stdout);
    }
  });
}

linux('usage errors and a missing process are 2', (t) => {
  t.is(runCli(['watch', '1', '--interval', 'soon']).code, 2);
  t.is(runCli(['watch', '999999999', '--count', '1']).code, 2);
});
