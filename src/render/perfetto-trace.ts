/**
 * A traced tree as a Chrome/Perfetto trace (the Trace Event Format's JSON object form), for
 * `--perfetto FILE` on gate and inherit-diff: opens in ui.perfetto.dev and chrome://tracing.
 *
 * - Each process is a track (pid and tid both its pid), named by its program (`process_name` and
 *   `thread_name` metadata events), ordered as the tree was created (`process_sort_index`).
 * - On it, one complete ("X") slice for its life, from its creation to its exit, with its pid,
 *   parent and exit status as args; inside it one slice per program it exec'd, with argv, exe and
 *   what it received beyond 0, 1, 2 (each descriptor's type, target, lineage, and whether it was
 *   ambient, passed by a protocol, allowed, or a finding).
 * - Each finding (gate) or each descriptor the tree passed on (inherit-diff) is an instant ("i")
 *   event on the receiving exec's track at its time, named for the file.
 * Times are TraceEvent.at (microseconds since the trace began); a result without them (made by an
 * older tracer) uses the event order as its clock, one microsecond per event.
 *
 * Written as a sequence of chunks (one per process), never as one string: a run of thousands of
 * processes costs its events once, as they are written. Strings are kept exactly (JSON escapes
 * them), as in fdscan's other JSON.
 */
import { basename } from 'node:path';
import type { ExecRecord, TraceResult, TracedDescriptor, TracedProcess } from '../probe-kit/trace-result.js';
import type { GateVerdict } from '../gate/gate-finding.js';
import { objectKey } from '../audit/descriptor-identity.js';

const STDIO = 3;

/** What the trace is for: the gate's verdict marks its findings; without one, every descriptor the tree passed on is marked. */
export interface PerfettoOptions {
  verdict?: GateVerdict;
  /** One line for the trace's metadata: `gate: failed, 1 finding`. */
  summary?: string;
}

/** How a received descriptor stands in the report (gate), or `passed-on` (inherit-diff). */
type Mark = 'finding' | 'baselined' | 'allowed' | 'protocol' | 'ambient' | 'passed-on';

/** The trace, in chunks of JSON text whose concatenation is one document. */
export function* perfettoTrace(trace: TraceResult, options: PerfettoOptions = {}): Generator<string> {
  const clock = timesOf(trace);
  const marks = options.verdict ? verdictMarks(options.verdict) : undefined;
  const metadata = {
    tool: 'fdscan', command: trace.command, method: trace.method, exitCode: trace.exitCode,
    ...(options.summary ? { summary: options.summary } : {}),
    ...(clock.estimated ? { clock: 'event order (this result has no times)' } : {}),
  };
  yield `{"displayTimeUnit":"ms","otherData":${JSON.stringify(metadata)},"traceEvents":[\n`;
  // A pid reused within the run is one track: named by every program that had it.
  const tracks = new Map<number, { first: number; names: string[] }>();
  for (const p of trace.processes) {
    const name = processLabel(trace, p);
    const track = tracks.get(p.pid);
    if (!track) tracks.set(p.pid, { first: p.id, names: [name] });
    else if (!track.names.includes(name)) track.names.push(name);
  }
  let first = true;
  for (const p of trace.processes) {
    const events: object[] = [];
    const track = tracks.get(p.pid)!;
    if (track.first === p.id) {
      const name = track.names.join(', then ');
      events.push(
        { ph: 'M', name: 'process_name', pid: p.pid, tid: p.pid, args: { name } },
        { ph: 'M', name: 'thread_name', pid: p.pid, tid: p.pid, args: { name } },
        { ph: 'M', name: 'process_sort_index', pid: p.pid, tid: p.pid, args: { sort_index: p.id } },
      );
    }
    events.push(...processEvents(trace, p, clock, marks));
    const text = events.map((e) => JSON.stringify(e)).join(',\n');
    yield first ? text : `,\n${text}`;
    first = false;
  }
  yield '\n]}\n';
}

interface Clock {
  created: number[];
  exited: Array<number | undefined>;
  exec: Map<number, number>;
  end: number;
  estimated: boolean;
}

/** When each process was created and exited and each exec happened, from the trace's events. */
function timesOf(trace: TraceResult): Clock {
  const estimated = trace.events.some((e) => e.at === undefined);
  const clock: Clock = { created: [], exited: [], exec: new Map(), end: 0, estimated };
  for (const e of trace.events) {
    const at = estimated ? e.seq : micros(e.at!);
    clock.end = Math.max(clock.end, at);
    if (e.kind === 'exec') clock.exec.set(e.seq, at);
    else if (e.kind === 'exit') clock.exited[e.process] = at;
    else clock.created[e.child ?? e.process] = at;
  }
  return clock;
}

/** Its program: what it exec'd first, or its parent's program for a fork that never exec'd. */
function processLabel(trace: TraceResult, p: TracedProcess): string {
  const exec = p.execs[0];
  if (exec) return programOf(exec);
  const parent = p.parent === undefined ? undefined : trace.processes[p.parent];
  const image = parent?.execs[parent.execs.length - 1];
  return image ? `${programOf(image)} (${p.createdBy})` : `pid ${p.pid}`;
}

function programOf(exec: Pick<ExecRecord, 'argv' | 'exe'>): string {
  const path = exec.exe && !exec.exe.startsWith('(') ? exec.exe : exec.argv[0] ?? '?';
  return basename(path);
}

/** The life slice of `p`, a slice per exec, and an instant per marked descriptor. */
function processEvents(trace: TraceResult, p: TracedProcess, clock: Clock, marks: Map<string, Mark> | undefined): object[] {
  const start = clock.created[p.id] ?? 0;
  const end = Math.max(start, clock.exited[p.id] ?? clock.end);
  const parent = p.parent === undefined ? undefined : trace.processes[p.parent];
  const track = { pid: p.pid, tid: p.pid };
  const life: Record<string, unknown> = {
    pid: p.pid, ppid: p.ppid, createdBy: p.parent === undefined ? 'fdscan' : p.createdBy,
    ...(parent ? { parent: { pid: parent.pid, program: processLabel(trace, parent) } } : {}),
    execs: p.execs.length,
    ...(p.exit?.status !== undefined ? { exitStatus: p.exit.status } : {}),
    ...(p.exit?.signal ? { signal: p.exit.signal } : {}),
    ...(p.exit === undefined ? { exit: 'not seen (still running when the trace ended)' } : {}),
  };
  const events: object[] = [{ ph: 'X', cat: 'process', name: processLabel(trace, p), ts: start, dur: micros(end - start), ...track, args: life }];
  p.execs.forEach((exec, i) => {
    const at = Math.min(Math.max(clock.exec.get(exec.seq) ?? start, start), end);
    const next = p.execs[i + 1];
    const until = Math.min(Math.max(next ? clock.exec.get(next.seq) ?? end : end, at), end);
    const received = exec.received.filter((d) => d.fd >= STDIO).map((d) => receivedArg(trace, p, exec, d, marks));
    events.push({
      ph: 'X', cat: 'exec', name: programOf(exec), ts: at, dur: micros(until - at), ...track,
      args: {
        argv: exec.argv, exe: exec.exe, received,
        ...(exec.error ? { error: exec.error } : {}),
        ...(exec.sampled ? { sampled: true } : {}),
        ...([0, 1, 2].some((fd) => !exec.received.some((d) => d.fd === fd)) ? { closedStdio: [0, 1, 2].filter((fd) => !exec.received.some((d) => d.fd === fd)) } : {}),
      },
    });
    for (const d of received) {
      if (d.mark !== 'finding' && d.mark !== 'passed-on') continue;
      events.push({
        ph: 'i', s: 't', cat: d.mark, name: `${d.mark === 'finding' ? 'leak' : 'received'}: fd ${d.fd} ${d.type} ${d.target}`, ts: at, ...track,
        args: { fd: d.fd, type: d.type, target: d.target, ...(d.openedBy ? { openedBy: d.openedBy } : {}), program: programOf(exec) },
      });
    }
  });
  if (marks) {
    const growth = marks.get(growthKey(p.id));
    if (growth) {
      const last = p.execs[p.execs.length - 1];
      const at = last ? clock.exec.get(last.seq) ?? start : start;
      events.push({ ph: 'i', s: 't', cat: 'finding', name: 'leak: holds more descriptors at each re-exec', ts: Math.min(Math.max(at, start), end), ...track, args: { pid: p.pid } });
    }
  }
  return events;
}

interface ReceivedArg {
  fd: number;
  type: string;
  target: string;
  targetBytes?: string;
  via: string;
  from?: string;
  openedBy?: string;
  mark?: Mark;
}

/** One descriptor an exec received beyond 0, 1, 2, as the slice's args show it. */
function receivedArg(trace: TraceResult, p: TracedProcess, exec: ExecRecord, d: TracedDescriptor, marks: Map<string, Mark> | undefined): ReceivedArg {
  const arg: ReceivedArg = { fd: d.fd, type: d.type, target: d.target, via: d.via };
  if (d.targetBytes !== undefined) arg.targetBytes = d.targetBytes;
  if (d.from) arg.from = d.from.process === undefined ? `fdscan (pid ${d.from.pid}) fd ${d.from.fd}` : `pid ${d.from.pid} fd ${d.from.fd}`;
  const holder = d.firstHolder;
  if (!d.ambient && holder) {
    const image = holder.image ?? trace.processes[holder.process]?.execs[0];
    arg.openedBy = `pid ${holder.pid}${image ? ` (${programOf(image)})` : ''}${holder.fd !== undefined ? ` as fd ${holder.fd}` : ''}`;
  }
  const mark = marks ? marks.get(receiptKey(p.id, d)) ?? (d.ambient ? 'ambient' : undefined)
    : d.ambient ? 'ambient' : exec.protocols?.some((pass) => pass.fds.includes(d.fd)) ? 'protocol' : 'passed-on';
  if (mark) arg.mark = mark;
  return arg;
}

/** A time to the nanosecond: a microsecond time, or a difference of two, carries float noise otherwise. */
function micros(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function receiptKey(process: number, d: TracedDescriptor): string {
  return `${process}\0${d.fd}\0${objectKey(d)}`;
}

function growthKey(process: number): string {
  return `growth\0${process}`;
}

/** Each receipt the verdict filed, by process, number and object. */
function verdictMarks(verdict: GateVerdict): Map<string, Mark> {
  const marks = new Map<string, Mark>();
  const file = (groups: Array<{ receivers: Array<{ process: number; fd: number }>; descriptor: TracedDescriptor }>, mark: Mark): void => {
    for (const g of groups) for (const r of g.receivers) marks.set(receiptKey(r.process, { ...g.descriptor, fd: r.fd }), mark);
  };
  file(verdict.protocol, 'protocol');
  file(verdict.allowed, 'allowed');
  for (const f of verdict.findings) {
    if (f.kind === 'inherited') file([f], f.baselined ? 'baselined' : 'finding');
    else if (!f.baselined) marks.set(growthKey(f.process.process), 'finding');
  }
  return marks;
}
