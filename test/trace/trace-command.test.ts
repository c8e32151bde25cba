/** The exec tracer against real process trees: what each exec received, and from whom. */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { traceCommand, type TraceResult, type TracedProcess } from '../../src/index.js';
import { fixturesDir } from '../helpers/fixture.js';

const skip = process.platform !== 'linux';
const linux = skip ? test.skip : test;

/** Every exec whose program is `name` (basename of exe), with its process. */
function execsOf(trace: TraceResult, name: string): Array<{ process: TracedProcess; exec: TracedProcess['execs'][number] }> {
  return trace.processes.flatMap((process) => process.execs.filter((e) => e.exe.split('/').pop() === name).map((exec) => ({ process, exec })));
}

interface Manifest {
  pid: number;
  inheritable: string;
  cloexec: string;
}

/** Run the fixture under the tracer; the Python binary itself, not pyenv's shell shim, is the root. */
async function traceFixture(mode: 'one' | 'none'): Promise<{ trace: TraceResult; manifest: Manifest }> {
  const workdir = mkdtempSync(join(tmpdir(), 'fdscan-trace-'));
  try {
    const probe = await traceCommand(['python3', '-c', 'pass']);
    const python = probe.processes.flatMap((p) => p.execs).find((e) => /^python3/.test(e.exe.split('/').pop()!))!.exe;
    const trace = await traceCommand([python, join(fixturesDir, 'inherit-two-files.py'), workdir, mode]);
    const manifest = { pid: trace.processes[0]!.pid, inheritable: join(workdir, 'inheritable.txt'), cloexec: join(workdir, 'cloexec.txt') };
    return { trace, manifest };
  } finally {
    rmSync(workdir, { recursive: true, force: true });
  }
}

linux('true and cat receive the inheritable file, nobody the close-on-exec one', async (t) => {
  const { trace, manifest } = await traceFixture('one');
  t.is(trace.method, 'ptrace');
  t.is(trace.exitCode, 0);
  const trues = execsOf(trace, 'true');
  const cats = execsOf(trace, 'cat');
  t.is(trues.length, 1, 'exactly one exec of /bin/true recorded');
  t.is(cats.length, 1, 'exactly one exec of cat recorded');
  for (const { exec, process } of [...trues, ...cats]) {
    const file = exec.received.find((d) => d.target === manifest.inheritable);
    t.truthy(file, `${exec.argv.join(' ')} received ${manifest.inheritable}`);
    // Lineage: first held by the Python process, handed down by sh.
    t.is(file!.firstHolder.pid, manifest.pid);
    t.false(file!.ambient === true);
    t.is(file!.via, 'parent');
    t.not(process.id, 0);
  }
  for (const p of trace.processes) {
    for (const exec of p.execs) t.false(exec.received.some((d) => d.target === manifest.cloexec), `${exec.argv.join(' ')} must not receive the close-on-exec file`);
  }
  // sh (the parent of true) exec'd cat itself: same pid.
  t.is(cats[0]!.process.pid, trues[0]!.process.ppid);
});

linux('with neither file inheritable, no process receives either', async (t) => {
  const { trace, manifest } = await traceFixture('none');
  t.is(execsOf(trace, 'true').length, 1);
  t.is(execsOf(trace, 'cat').length, 1);
  for (const p of trace.processes) {
    for (const exec of p.execs) {
      t.false(exec.received.some((d) => d.target === manifest.inheritable || d.target === manifest.cloexec), exec.argv.join(' '));
    }
  }
});

linux('records fork, exec and exit of every process, threads excluded, exit statuses and signal deaths', async (t) => {
  const trace = await traceCommand(['sh', '-c', '/bin/true; (/bin/false); sh -c \'kill -TERM $$\'; exit 3']);
  t.is(trace.exitCode, 3);
  const byProgram = (name: string) => execsOf(trace, name).map((e) => e.process);
  t.is(byProgram('true')[0]?.exit?.status, 0);
  t.is(byProgram('false')[0]?.exit?.status, 1);
  const killed = trace.processes.find((p) => p.execs.some((e) => e.argv.join(' ') === "sh -c kill -TERM $$"));
  t.is(killed?.exit?.status, 143);
  t.is(killed?.exit?.signal, 'SIGTERM');
  for (const p of trace.processes) t.truthy(p.exit, `pid ${p.pid} has an exit`);
  const kinds = new Set(trace.events.map((e) => e.kind));
  t.true(kinds.has('exec') && kinds.has('exit') && (kinds.has('fork') || kinds.has('vfork')));
  const seqs = trace.events.map((e) => e.seq);
  t.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
});

linux('a descriptor opened in the tree is attributed to the process that opened it', async (t) => {
  const trace = await traceCommand(['sh', '-c', 'exec 7</etc/hostname; /bin/true; exec cat /dev/null']);
  const root = trace.processes[0]!;
  const [trueExec] = execsOf(trace, 'true');
  const seven = trueExec!.exec.received.find((d) => d.fd === 7);
  t.is(seven?.target, '/etc/hostname');
  t.is(seven?.firstHolder.pid, root.pid);
  t.is(seven?.from?.pid, root.pid);
  t.is(seven?.from?.fd, 7);
  t.is(seven?.from?.match, 'kcmp');
  const catSeven = execsOf(trace, 'cat')[0]!.exec.received.find((d) => d.fd === 7);
  t.is(catSeven?.via, 'self');
  // What the root received from fdscan is ambient, matched by object, not number.
  for (const d of root.execs[0]!.received) {
    t.true(d.ambient, `fd ${d.fd} of the root is ambient`);
    t.true(trace.ambient.some((a) => a.inode === d.inode && a.device === d.device));
  }
});

linux('exit tables: what each process held as it exited, unless turned off; execs recorded the same', async (t) => {
  const command = ['sh', '-c', 'exec 5</etc/hostname; /bin/true; exit 2'];
  const withTables = await traceCommand(command);
  const without = await traceCommand(command, { exitTables: false });
  t.true(withTables.processes[0]!.exit?.held?.some((d) => d.fd === 5 && d.target === '/etc/hostname'));
  for (const p of without.processes) t.is(p.exit?.held, undefined, `pid ${p.pid}: no exit table`);
  const summary = (trace: TraceResult) => trace.processes.map((p) => ({
    execs: p.execs.map((e) => ({ exe: e.exe, received: e.received.map((d) => [d.fd, d.target, d.via, d.firstHolder.process]) })),
    status: p.exit?.status,
  }));
  t.deepEqual(summary(without), summary(withTables));
  t.is(without.exitCode, 2);
});

linux('sampling fallback sees a process that lives long enough and says it is inexact', async (t) => {
  const trace = await traceCommand(['sh', '-c', 'sleep 2; exit 4'], { method: 'sampling' }); // long enough on a loaded machine
  t.is(trace.method, 'sampling');
  t.is(trace.exitCode, 4);
  t.true(execsOf(trace, 'sleep').length >= 1);
  t.true(trace.warnings.some((w) => /sampl/i.test(w)));
});

linux('every event carries the time the tracer took it, in the order of the events, a child created before its exec and exit', async (t) => {
  const trace = await traceCommand(['sh', '-c', '/bin/true; /bin/true; exec /bin/true']);
  t.true(trace.events.length >= 6);
  let last = 0;
  for (const e of trace.events) {
    t.is(typeof e.at, 'number', `${e.kind} of pid ${e.pid}`);
    t.true(e.at! >= last, `${e.kind} of pid ${e.pid} at ${e.at} after ${last}`);
    last = e.at!;
  }
  const at = (kind: string, process: number): number | undefined => trace.events.find((e) => e.kind === kind && (e.child ?? e.process) === process)?.at;
  for (const p of trace.processes.slice(1)) {
    const created = at(p.createdBy, p.id)!;
    t.true(created <= at('exit', p.id)!);
    for (const exec of p.execs) t.true(created <= trace.events.find((e) => e.seq === exec.seq)!.at!);
  }
});
