/**
 * The tracer thread. Every ptrace call of a trace happens here, synchronously: ptrace ties a
 * tracee to the one thread that attached it, and this thread also spawns the root so that it is
 * the root's parent. It registers a pidfd for each process in the shared forwarding registry (so
 * that the main thread can forward signals without ever hitting a reused pid, and without a
 * message per process), and posts the result at the end.
 */
import { constants, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { TraceRequest } from '../../src/probe-kit/index.js';
import { FdscanError, errnoOf, limitReached, serializeError, type SerializedError } from '../../src/probe-kit/index.js';
import { shellStatus } from '../../src/probe-kit/index.js';
import type { ProcessReader } from '../../src/probe-kit/index.js';
import { TraceRecorder } from '../../src/probe-kit/tracer-thread.js';
import type { TraceResult } from '../../src/probe-kit/index.js';
import { newAuditContext, readDescriptors } from './descriptors.js';
import { close } from './libc-files.js';
import { fileCapabilities, kill, pidfdOpen } from './libc-process.js';
import { readExecArgv } from './process-info.js';
import { linuxDescriptorLimits } from './limits.js';
import { sameDescriptorTable, sameOpenFile } from './same-open-file.js';
import { spawnStopped } from './spawn-stopped.js';
import { handTerminal } from './job-control.js';
import { runPtraceLoop, seize } from './ptrace-loop.js';
import { spawnFiltered, startSpawnThread } from './spawn-origins.js';
import { withDescriptorLock, type DescriptorLock } from './descriptor-lock.js';
import { nativeArch } from './descriptor-calls.js';
import { waitpid } from './libc-process.js';
import { runSamplingLoop } from './sampling-loop.js';
import { readTraceTable } from './trace-tables.js';
import { ForwardingRegistry } from './forwarding-registry.js';

/** What the tracer (tracer.ts) hands this thread: the request and the shared forwarding registry. */
export interface WorkerRequest extends TraceRequest {
  /** The forwarding registry (forwarding-registry.ts): pidfds of live processes, signals forwarded. */
  registry: SharedArrayBuffer;
  /** Post the root's stops and its exit (TraceJobEvents), as for a job of its own (`terminal`). */
  reportJob: boolean;
  /** Held while spawning and while unwinding, across tracer threads (descriptor-lock.ts). */
  descriptorLock?: DescriptorLock;
}

/** Messages this worker posts; an error crosses as data and is rebuilt with its class. */
export type TracerMessage =
  | { type: 'result'; result: TraceResult }
  /** The job (TraceRequest.terminal) started with the root leading group `pgid`, its root stopped, or exited. */
  | { type: 'job'; pgid: number }
  | { type: 'job'; stopped: number }
  | { type: 'job'; ended: true }
  | { type: 'error'; error: SerializedError };

/** Tables, argv and images of stopped tracees, read from /proc. */
function procReader(): ProcessReader {
  const context = newAuditContext({ peers: false });
  return {
    table: (pid, options) => (options ? readTraceTable(pid, context, options) : readDescriptors(pid, context)),
    argv: readExecArgv,
    exe: (pid) => {
      try {
        return readlinkSync(`/proc/${pid}/exe`);
      } catch (error) {
        return `(unreadable: ${errnoOf(error) ?? (error as Error).message})`;
      }
    },
    sameOpenFile: (pidA, fdA, pidB, fdB) => {
      try {
        return sameOpenFile(pidA, fdA, pidB, fdB);
      } catch (error) {
        if (error instanceof FdscanError) return undefined;
        throw error;
      }
    },
    sameTable: sameDescriptorTable,
    problems: () => context.sockets.problems.splice(0),
    droppedPrivilege: privilegedTracer() ? undefined : droppedPrivilege,
    environment,
  };
}

/**
 * The wanted variables of /proc/PID/environ: at the exec stop it holds the environment the new
 * program was given. Read as latin1 (any byte is one character; the protocol values are ASCII).
 */
function environment(pid: number, wanted: (name: string) => boolean): Map<string, string> | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch {
    return undefined; // not dumpable or gone: its table is unreadable too, and the exec unverified
  }
  const found = new Map<string, string>();
  for (const entry of text.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0 && wanted(entry.slice(0, eq)) && !found.has(entry.slice(0, eq))) found.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return found;
}

const PIDFD_FLAGS = 0;
const WNOHANG = 1;
const WALL = 0x40000000;

function post(message: TracerMessage): void {
  parentPort!.postMessage(message);
}

function run(request: WorkerRequest): TraceResult {
  // The stub is spawned under the origins filter by a thread of its own (spawn-thread.ts), started
  // first so that its start-up overlaps the reading of fdscan's own table.
  const notTraced = originsRefused(request);
  const spawner = notTraced === undefined ? startSpawnThread() : undefined;
  const recorder = new TraceRecorder(request.argv, process.pid, procReader(), { fullStdio: request.fullStdio });
  const ownGroup = request.terminal !== undefined;
  let root: number | undefined;
  let why = notTraced ?? 'spawn-thread';
  if (spawner) {
    const spawned = spawnFiltered(spawner, request.exec.argv, request.exec.env, request.caller, ownGroup, nativeArch()!, request.descriptorLock);
    if ('pid' in spawned) root = spawned.pid;
    else why = `seccomp-${spawned.filterFailed}`;
  }
  let filtered = root !== undefined;
  /** The filtered stub is seized at once: if ptrace is refused, it must not run CMD (see below). */
  let seized: string | undefined | 'not-tried' = 'not-tried';
  if (root !== undefined) {
    seized = seize(root, request.exitTables, true);
    if (seized !== undefined) {
      // Refused: untraced, the filter would answer ENOSYS. The stub has not exec'd CMD; it dies
      // here, and an unfiltered one (this thread carries no filter) takes its place for the
      // sampling fallback, as without origins.
      process.kill(root, 'SIGKILL');
      waitpid(root, [0], 0);
      root = undefined;
      filtered = false;
      why = 'ptrace-refused';
      seized = 'not-tried';
    }
  }
  // Turned off (--no-origins): the result has no `origins` at all, as before they existed.
  if (notTraced !== 'no-origins') recorder.originTracing = filtered ? { traced: true, stops: 0 } : { traced: false, reason: why, stops: 0 };
  root ??= withDescriptorLock(request.descriptorLock, () => spawnStopped(request.exec.argv, request.exec.env, request.caller, ownGroup));
  recorder.addRoot(root);
  if (request.terminal !== undefined) {
    handTerminal(request.terminal, root);
    post({ type: 'job', pgid: root });
  }
  // The main thread stops fdscan's job once per stop of the root: a stopped tracee reports its
  // group-stop again when woken by another signal, with no SIGCONT between.
  let rootStopped = false;
  const registry = new ForwardingRegistry(request.registry);
  /** Registry slot of each live process. */
  const slots = new Map<number, number>();
  // Pidfds are held only while descriptors to read tables remain: beyond that a process is
  // registered by pid, so that a big tree under a low limit loses no table.
  const spare = descriptorsToSpare(filtered);
  let pidfds = 0;
  const hooks = {
    // A tracee is stopped (or not yet reaped) here, so its pid cannot have been reused yet.
    onProcess: (pid: number, parent?: number) => {
      const catchUp = () => {
        // Signals forwarded before this process was registered. The root could not be reached
        // yet: it gets every one. A child gets those still pending in its stopped parent: they
        // were sent after the fork. Later ones reach it through its slot.
        const forwarded = registry.forwardedSignals();
        if (forwarded.length === 0) return;
        if (pid === root) {
          for (const signo of forwarded) kill(pid, signo);
        } else if (parent !== undefined) {
          for (const signo of pendingSignals(parent)) if (forwarded.includes(signo)) kill(pid, signo);
        }
      };
      const pidfd = pidfds < spare ? pidfdOpen(pid, PIDFD_FLAGS) : -1;
      if (pidfd >= 0) pidfds++;
      const slot = pidfd >= 0 ? registry.add(pidfd, catchUp) : registry.addPid(pid, catchUp);
      if (slot !== undefined) slots.set(pid, slot);
    },
    onRootStop: (signal: number) => {
      if (rootStopped || !request.reportJob) return;
      rootStopped = true;
      post({ type: 'job', stopped: signal });
    },
    onRootContinue: () => { rootStopped = false; },
    onExit: (pid: number) => {
      if (pid === root && request.reportJob) post({ type: 'job', ended: true });
      const slot = slots.get(pid);
      if (slot === undefined) return;
      slots.delete(pid);
      const pidfd = registry.remove(slot);
      if (pidfd >= 0) {
        close(pidfd);
        pidfds--;
      }
    },
  };
  hooks.onProcess(root);
  if (request.method !== 'sampling') {
    const refused = seized === 'not-tried' ? seize(root, request.exitTables, false) : seized;
    if (refused === undefined) {
      const status = runPtraceLoop(root, recorder, hooks, { origins: filtered, descriptorLock: request.descriptorLock });
      // The filtered stub's parent is another thread of fdscan (its spawn thread ended): the tracer
      // got its status, the zombie is left for that parent, and is reaped here.
      if (filtered) waitpid(root, [0], WNOHANG | WALL);
      return recorder.result('ptrace', shellStatus(status.code, status.signal), status.signal);
    }
    const why = refusedBecause(root, refused);
    if (request.method === 'ptrace') {
      process.kill(root, 'SIGKILL');
      throw new FdscanError('ETRACE_REFUSED', `ptrace refused (${why}): cannot trace exactly here`);
    }
    recorder.warnings.push(
      `ptrace refused (${why}); ` +
      `sampling /proc every ${request.samplingIntervalMs} ms instead: processes shorter than that can be missed, ` +
      'and tables are read after the exec, not at it',
    );
  }
  if (request.method === 'sampling') {
    recorder.warnings.push(`sampling /proc every ${request.samplingIntervalMs} ms as asked: processes shorter than that can be missed`);
  }
  const status = runSamplingLoop(root, recorder, hooks, request.samplingIntervalMs);
  return recorder.result('sampling', shellStatus(status.code, status.signal), status.signal);
}

/**
 * Why PTRACE_SEIZE of the stub failed: a process has one tracer, and a tracer that follows forks
 * (`strace -f` of fdscan) already traces the stub; else the usual causes of EPERM.
 */
function refusedBecause(stub: number, errnoName: string): string {
  const tracer = tracerOf(`/proc/${stub}/status`);
  if (tracer === undefined || tracer === 0) return `${errnoName}: yama ptrace_scope, a sandbox or a missing CAP_SYS_PTRACE`;
  let name = '?';
  try { name = readFileSync(`/proc/${tracer}/comm`, 'utf8').replace(/\n$/, ''); } catch { /* exited meanwhile */ }
  const who = `${tracer} (${name})`;
  return tracerOf('/proc/thread-self/status') === tracer
    ? `${errnoName}: fdscan is being traced by ${who}, which also traces the command it starts`
    : `${errnoName}: the command is already traced by ${who}`;
}

/** TracerPid of a /proc status file (0: not traced); undefined when unreadable. */
function tracerOf(statusFile: string): number | undefined {
  try {
    const match = /^TracerPid:\s*(\d+)/m.exec(readFileSync(statusFile, 'latin1'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why origins are not traced for `request`, in one word; undefined: they are. They need the exact
 * tracer, a known architecture, and a ptrace that will work (the filtered stub must have fdscan as
 * its tracer: yama's ptrace_scope 3 forbids every attach, and a traced fdscan's children are
 * attached to its own tracer first).
 */
function originsRefused(request: WorkerRequest): string | undefined {
  if (request.origins === false) return 'no-origins';
  if (request.method === 'sampling') return 'sampled';
  if (nativeArch() === undefined) return 'unsupported-arch';
  try {
    if (readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'latin1').trim() === '3') return 'ptrace-refused';
  } catch { /* no yama */ }
  const tracer = tracerOf('/proc/thread-self/status');
  if (tracer !== undefined && tracer !== 0) return 'fdscan-traced';
  return undefined;
}

/** Set-user-ID and set-group-ID mode bits (<sys/stat.h>; not in Node's fs.constants). */
const S_ISUID = 0o4000;
const S_ISGID = 0o2000;

/** Whether this process has CAP_SYS_PTRACE: then a traced setuid program keeps its privilege. */
function privilegedTracer(): boolean {
  const match = /^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'latin1'));
  return match !== null && ((BigInt(`0x${match[1]}`) >> 19n) & 1n) === 1n;
}

/** setuid, setgid or file capabilities of the program `pid` runs: what the kernel dropped because it is traced. */
function droppedPrivilege(pid: number): string | undefined {
  const exe = `/proc/${pid}/exe`;
  let mode: number;
  try {
    mode = statSync(exe).mode;
  } catch {
    return undefined; // unreadable: the exec is unverified, said elsewhere
  }
  if (mode & S_ISUID) return 'setuid privilege';
  if (mode & S_ISGID && mode & constants.S_IXGRP) return 'setgid privilege';
  return fileCapabilities(exe) ? 'file capabilities' : undefined;
}

/** Table reads need a few descriptors at a time (two directories and a file): keep 32 of the limit free. */
const TABLE_READ_RESERVE = 32;

/**
 * What the unwinders keep open while origins are traced: libdw's ELF files of up to 8 cached
 * processes (native-stack.ts) and python-frames.ts's /proc/PID/mem of each live Python process.
 */
const UNWINDER_RESERVE = 48;

/** How many pidfds this thread may hold: the soft descriptor limit less what is open now and the reserves. */
function descriptorsToSpare(origins: boolean): number {
  let soft = Number.POSITIVE_INFINITY;
  try {
    soft = linuxDescriptorLimits(process.pid).soft ?? Number.POSITIVE_INFINITY; // null: unlimited
  } catch (error) {
    if (!(error instanceof FdscanError)) throw error; // no limits file: no budget
  }
  let open = 0;
  try { open = readdirSync('/proc/self/fd').length; } catch { /* counted as none */ }
  return Math.max(0, soft - open - TABLE_READ_RESERVE - (origins ? UNWINDER_RESERVE : 0));
}

/** Signals pending for a process (SigPnd of the thread and ShdPnd of the group, /proc/PID/status). */
function pendingSignals(pid: number): number[] {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return [];
  }
  let mask = 0n;
  for (const key of ['SigPnd', 'ShdPnd']) {
    const match = new RegExp(`^${key}:\\s*([0-9a-f]+)`, 'm').exec(status);
    if (match) mask |= BigInt(`0x${match[1]}`);
  }
  const signals: number[] = [];
  for (let signo = 1; signo <= 64; signo++) if ((mask >> BigInt(signo - 1)) & 1n) signals.push(signo);
  return signals;
}

/** Trace the request: given at the start (workerData), or posted once it is known (a thread started ahead, tracer.ts). */
function traceRequest(request: WorkerRequest): void {
  try {
    post({ type: 'result', result: run(request) });
  } catch (error) {
    post({ type: 'error', error: serializeError(limitReached(error)) });
  }
}

if (workerData) traceRequest(workerData as WorkerRequest);
else parentPort!.once('message', traceRequest);
