/**
 * `--perfetto FILE` on inherit-diff and gate: the traced tree as a Chrome/Perfetto trace, matched
 * against the JSON report of the same real run (a shell script that opens a file without O_CLOEXEC
 * and execs children).
 */
import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { traceCommand } from '../../src/index.js';
import { perfettoTrace } from '../../src/render/perfetto-trace.js';
import { withTempDir } from '../helpers/temp-dir.js';

const linux = process.platform === 'linux' ? test : test.skip;

interface TraceEvent {
  ph: string;
  name: string;
  cat?: string;
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  s?: string;
  args?: Record<string, unknown>;
}

interface TraceFile {
  displayTimeUnit: string;
  otherData: Record<string, unknown>;
  traceEvents: TraceEvent[];
}

interface Received {
  fd: number;
  type: string;
  target: string;
  via: string;
  from?: string;
  openedBy?: string;
  mark?: string;
}

interface InheritDiffDocument {
  processes: Array<{ process: number; pid: number; ppid: number; argv: string[]; exe: string; inherited: Array<{ fd: number; target: string; ambient?: boolean }> }>;
  tree: Array<{ id: number; pid: number; ppid: number; parent?: number; exit?: { status?: number } }>;
}

/** sh opens leak.txt on fd 7 without O_CLOEXEC (a redirection), runs cat and a child shell that execs true, then execs env, which execs true. */
function writeScript(dir: string): string {
  const script = join(dir, 'tree.sh');
  writeFileSync(script, [
    `exec 7>"${dir}/leak.txt"`,
    'cat /dev/null',
    "sh -c 'exec /bin/true'",
    'exec env true',
  ].join('\n'));
  return script;
}

/** The trace's shape as the Trace Event Format asks, and X slices of each track nested (Perfetto drops overlapping ones). */
function checkShape(t: import('ava').ExecutionContext, trace: TraceFile): void {
  t.is(trace.displayTimeUnit, 'ms');
  t.true(Array.isArray(trace.traceEvents));
  const slices = new Map<number, TraceEvent[]>();
  for (const e of trace.traceEvents) {
    t.true(['X', 'M', 'i'].includes(e.ph), e.ph);
    t.is(typeof e.name, 'string');
    t.true(Number.isInteger(e.pid) && Number.isInteger(e.tid));
    if (e.ph === 'M') continue;
    t.is(typeof e.ts, 'number');
    t.true(e.ts! >= 0);
    if (e.ph === 'X') {
      t.true(typeof e.dur === 'number' && e.dur >= 0);
      slices.set(e.tid, [...(slices.get(e.tid) ?? []), e]);
    }
  }
  // In whole nanoseconds, as Perfetto reads them: times are given to the nanosecond.
  const ns = (us: number): number => Math.round(us * 1000);
  for (const [tid, list] of slices) {
    const stack: Array<{ name: string; start: number; end: number }> = [];
    for (const e of list.sort((a, b) => a.ts! - b.ts! || b.dur! - a.dur!)) {
      const slice = { name: e.name, start: ns(e.ts!), end: ns(e.ts!) + ns(e.dur!) };
      while (stack.length > 0 && stack[stack.length - 1]!.end <= slice.start && stack[stack.length - 1]!.end > stack[stack.length - 1]!.start) stack.pop();
      const outer = stack[stack.length - 1];
      if (outer) t.true(slice.end <= outer.end, `track ${tid}: ${e.name} ends after ${outer.name}, inside which it starts`);
      stack.push(slice);
    }
  }
}

linux('inherit-diff --perfetto: a track per process, its parent, each exec with its argv and the descriptors it received, as the JSON report says', (t) => {
  withTempDir('fdscan-perfetto', (dir) => {
    const script = writeScript(dir);
    const out = join(dir, 'tree.perfetto.json');
    const result = runCli(['inherit-diff', '--json', '-o', join(dir, 'report.json'), '--perfetto', out, '--', 'sh', script]);
    t.is(result.code, 0, result.stderr);
    const trace = JSON.parse(readFileSync(out, 'utf8')) as TraceFile;
    const doc = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as InheritDiffDocument;
    checkShape(t, trace);
    t.deepEqual(trace.otherData.command, ['sh', script]);
    // One life slice per process of the tree, on the track of its pid, with its parent's pid.
    const lives = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'process');
    t.deepEqual(lives.map((e) => e.pid).sort(), doc.tree.map((p) => p.pid).sort());
    for (const p of doc.tree) {
      const life = lives.find((e) => e.pid === p.pid)!;
      t.is(life.tid, p.pid);
      t.is(life.args!.ppid, p.ppid);
      const parent = p.parent === undefined ? undefined : doc.tree[p.parent]!;
      t.is((life.args!.parent as { pid: number } | undefined)?.pid, parent?.pid);
      if (p.exit?.status !== undefined) t.is(life.args!.exitStatus, p.exit.status);
      t.true(trace.traceEvents.some((e) => e.ph === 'M' && e.name === 'process_name' && e.pid === p.pid), `pid ${p.pid} named`);
    }
    // One exec slice per exec, in its process's track, with its argv and exactly what it received beyond 0, 1, 2.
    const execs = trace.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'exec');
    t.is(execs.length, doc.processes.length);
    for (const exec of doc.processes) {
      const slice = execs.find((e) => e.pid === exec.pid && JSON.stringify(e.args!.argv) === JSON.stringify(exec.argv));
      t.truthy(slice, `an exec slice of pid ${exec.pid}: ${exec.argv.join(' ')}`);
      t.is(slice!.args!.exe, exec.exe);
      const received = slice!.args!.received as Received[];
      t.deepEqual(received.map((d) => [d.fd, d.target]), exec.inherited.filter((d) => d.fd >= 3).map((d) => [d.fd, d.target]));
    }
    // The file sh opened reached cat, the child sh and its true, env and its true: passed on by the
    // tree, opened by the script's shell. A slice is named by the program's image (sh may be dash).
    const leak = join(dir, 'leak.txt');
    const root = doc.tree[0]!;
    const receivers = execs.filter((e) => (e.args!.received as Received[]).some((d) => d.target === leak));
    const expected = doc.processes.filter((e) => e.inherited.some((d) => d.target === leak));
    t.is(expected.length, 5);
    t.deepEqual(receivers.map((e) => e.name).sort(), expected.map((e) => basename(e.exe)).sort());
    t.deepEqual(receivers.map((e) => String(e.args!.exe)).sort(), expected.map((e) => e.exe).sort());
    for (const e of receivers) {
      const d = (e.args!.received as Received[]).find((r) => r.target === leak)!;
      t.is(d.fd, 7);
      t.is(d.mark, 'passed-on');
      t.is(d.openedBy, `pid ${root.pid} (${basename(doc.processes[0]!.exe)}) as fd 7`);
      t.true(trace.traceEvents.some((i) => i.ph === 'i' && i.pid === e.pid && i.ts === e.ts && i.name === `received: fd 7 REG ${leak}`), `instant on ${e.name}`);
    }
  });
});

linux('gate --perfetto: each finding an instant on each exec that received it; the trace is written when the gate fails', (t) => {
  withTempDir('fdscan-perfetto', (dir) => {
    const script = writeScript(dir);
    const out = join(dir, 'gate.json');
    const result = runCli(['gate', '--perfetto', out, '--', 'sh', script]);
    t.is(result.code, 1, result.stderr);
    const trace = JSON.parse(readFileSync(out, 'utf8')) as TraceFile;
    checkShape(t, trace);
    t.regex(String(trace.otherData.summary), /^gate failed: 1 finding not in the baseline/);
    const leak = join(dir, 'leak.txt');
    const findings = trace.traceEvents.filter((e) => e.ph === 'i' && e.cat === 'finding');
    t.deepEqual(findings.map((e) => e.name), Array(5).fill(`leak: fd 7 REG ${leak}`));
    for (const f of findings) {
      const exec = trace.traceEvents.find((e) => e.ph === 'X' && e.cat === 'exec' && e.pid === f.pid && e.ts === f.ts)!;
      t.is((exec.args!.received as Received[]).find((d) => d.target === leak)!.mark, 'finding');
    }
    // Nothing else is called a finding: received descriptors are the leak or ambient ones.
    for (const e of trace.traceEvents.filter((x) => x.cat === 'exec')) {
      for (const d of e.args!.received as Received[]) t.true(d.target === leak ? d.mark === 'finding' : d.mark === 'ambient', `${e.name}: ${d.fd} ${d.target} ${d.mark}`);
    }
  });
});

linux('--perfetto to a path that cannot be written refuses before the command runs (exit 2)', (t) => {
  withTempDir('fdscan-perfetto', (dir) => {
    const marker = join(dir, 'ran');
    const result = runCli(['gate', '--perfetto', join(dir, 'missing', 'tree.json'), '--', 'sh', '-c', `touch ${marker}`]);
    t.is(result.code, 2);
    t.regex(result.stderr, /^fdscan: cannot write --perfetto .*missing\/tree\.json: ENOENT/m);
    t.false(existsSync(marker));
    t.is(runCli(['inherit-diff', '--perfetto', join(dir, 'x.json'), '1', '2']).code, 2);
  });
});

linux('the trace is written a process at a time: 61 processes are 63 chunks, none much larger than one process', async (t) => {
  const trace = await traceCommand(['sh', '-c', 'i=0; while [ $i -lt 60 ]; do /bin/true; i=$((i+1)); done']);
  t.is(trace.processes.length, 61);
  const chunks = [...perfettoTrace(trace)];
  // The opening, one per process, the closing.
  t.is(chunks.length, trace.processes.length + 2);
  const sizes = chunks.slice(1, -1).map((c) => c.length);
  t.true(Math.max(...sizes) < 4 * sizes[sizes.length - 1]!, sizes.join(' '));
  const parsed = JSON.parse(chunks.join('')) as TraceFile;
  checkShape(t, parsed);
  t.is(parsed.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'process').length, 61);
});
