/** `fdscan lifecycle`: the Popen steps on the current platform, with fdscan's real table after each. */
import test from 'ava';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, stdioWith } from '../helpers/cli.js';

const linux = process.platform === 'linux' ? test : test.skip;

interface Row { fd: number; type: string; target: string }
interface LifecycleDocument {
  schema: string;
  childPid: number;
  steps: Array<{ step: string; fds: Row[]; opened: Row[]; closed: Row[] }>;
  child: { fds: Row[]; error?: string };
  childExtra: Array<Row & { fromFdscan: boolean }>;
  outlived: unknown[];
  stdoutBytes: number;
  exitCode: number;
}

linux('the three stdio pipes appear at spawn and close after communicate; the file at close; no leaks', (t) => {
  // fdscan starts with an inheritable file at 40 (Node marks only 0-15 close-on-exec at start-up),
  // so the child holds one descriptor beyond 0, 1, 2 that came from fdscan's environment.
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-lifecycle-'));
  const ambient = openSync(join(dir, 'ambient.txt'), 'w');
  let result;
  try {
    result = runCli(['lifecycle', '--json', '--input', 'twelve bytes', '--', 'cat'], { stdio: stdioWith(40, ambient) });
  } finally {
    closeSync(ambient);
    rmSync(dir, { recursive: true, force: true });
  }
  t.is(result.code, 0, result.stderr);
  const doc = JSON.parse(result.stdout) as LifecycleDocument;
  t.is(doc.schema, 'fdscan/lifecycle@1');
  t.deepEqual(doc.steps.map((s) => s.step), ['start', 'open-file', 'spawn', 'communicate', 'wait', 'release', 'close-file']);
  const step = (name: string) => doc.steps.find((s) => s.step === name)!;
  t.deepEqual(step('open-file').opened.map((d) => d.type), ['REG']);
  t.regex(step('open-file').opened[0]!.target, /scratch\.txt$/);
  // Node's "pipes" are unix socketpairs; a FIFO would do as well.
  const pipes = step('spawn').opened;
  t.is(pipes.length, 3, JSON.stringify(pipes));
  for (const d of pipes) t.true(d.type === 'SOCK' || d.type === 'FIFO', d.type);
  t.deepEqual(step('communicate').closed.map((d) => d.fd).sort(), pipes.map((d) => d.fd).sort());
  t.deepEqual(step('communicate').opened, []);
  for (const name of ['wait', 'release']) t.deepEqual([step(name).opened, step(name).closed], [[], []], name);
  t.deepEqual(step('close-file').closed.map((d) => d.target), [step('open-file').opened[0]!.target]);
  t.deepEqual(doc.outlived, []);
  t.is(doc.stdoutBytes, 12);
  // The child's own view: 0, 1, 2 are the other ends of the pipes; anything more came from fdscan's environment.
  t.deepEqual(doc.child.fds.filter((d) => d.fd <= 2).map((d) => d.fd), [0, 1, 2]);
  t.true(doc.childExtra.some((d) => d.fd === 40 && d.target.endsWith('/ambient.txt')), JSON.stringify(doc.childExtra));
  for (const d of doc.childExtra) t.true(d.fromFdscan, `child fd ${d.fd} ${d.target}`);
});

linux('the text report names each step and says there is no leak; CMD\'s failure passes through', (t) => {
  const result = runCli(['lifecycle', '--', 'cat']);
  t.is(result.code, 0, result.stderr);
  for (const step of ['0. start', '1. open-file', '2. spawn', '3. communicate', '4. wait', '5. release', '6. close-file']) t.true(result.stdout.includes(step), step);
  t.regex(result.stdout, /child pid \d+ received: 0, 1, 2/);
  t.regex(result.stdout, /No leaks/);
  t.is(runCli(['lifecycle', '--', 'sh', '-c', 'cat >/dev/null; exit 3']).code, 3);
  t.is(runCli(['lifecycle']).code, 2);
});
