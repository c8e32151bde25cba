/**
 * The tracer thread. Every ptrace call of a trace happens here, synchronously: ptrace ties a
 * tracee to the one thread that attached it, and this thread also spawns the root so that it is
 * the root's parent. It registers a pidfd for each process in the shared forwarding registry (so
 * that the main thread can forward signals without ever hitting a reused pid, and without a
 * message per process), and posts the result at the end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  FdscanError, limitReached, serializeError, shellStatus, type SerializedError, type TraceRequest, type TraceRecorder, type TraceResult,
} from '../../src/probe-kit/index.js';
import { createTraceRecorder } from '../../src/tracer-thread/recorder.js';
import { close } from './libc-files.js';
import { kill, pidfdOpen, waitpid } from './libc-process.js';
import { pendingSignals } from './process-info.js';
import { spawnStopped } from './spawn-stopped.js';
import { handTerminal } from './job-control.js';
import { runPtraceLoop, seize, type LoopHooks } from './ptrace-loop.js';
import { WALL, WNOHANG } from './ptrace-requests.js';
import { spawnFiltered, startSpawnThread, type SpawnThread } from './spawn-origins.js';
import { withDescriptorLock, type DescriptorLock } from './descriptor-lock.js';
import { nativeArch } from './descriptor-calls.js';
import { runSamplingLoop } from './sampling-loop.js';
import { ForwardingRegistry } from './forwarding-registry.js';
import { linuxTraceReader } from './trace-reader.js';
import { pidfdBudget } from './descriptor-budget.js';
import { originsRefused, refusedBecause } from './trace-refusals.js';

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

const PIDFD_FLAGS = 0;

function post(message: TracerMessage): void {
  parentPort!.postMessage(message);
}

function run(request: WorkerRequest): TraceResult {
  // The stub is spawned under the origins filter by a thread of its own (spawn-thread.ts), started
  // first so that its start-up overlaps the reading of fdscan's own table (by the recorder).
  const notTraced = originsRefused(request);
  const spawner = notTraced === undefined ? startSpawnThread() : undefined;
  const recorder = createTraceRecorder(request.argv, process.pid, linuxTraceReader(), { fullStdio: request.fullStdio });
  const { root, filtered, seized } = startRoot(request, recorder, notTraced, spawner);
  const hooks = treeHooks(request, root, filtered);
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
 * Spawn the root, stopped before it execs CMD: by `spawner` under the origins filter when origins
 * are traced (`filtered`, and seized at once: `seized` is PTRACE_SEIZE's errno name, undefined
 * when it worked), else unfiltered here (`seized` 'not-tried'). `notTraced`: why origins are not
 * traced (originsRefused). Says in the recorder whether they are.
 */
function startRoot(
  request: WorkerRequest, recorder: TraceRecorder, notTraced: string | undefined, spawner: SpawnThread | undefined,
): { root: number; filtered: boolean; seized: string | undefined | 'not-tried' } {
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
  return { root, filtered, seized };
}

/**
 * The loops' hooks: each process of the tree registered in the forwarding registry (by pidfd while
 * the budget lasts, else by pid) and removed at its exit; the root's stops and exit posted as job
 * events when asked (`reportJob`).
 */
function treeHooks(request: WorkerRequest, root: number, filtered: boolean): LoopHooks {
  // The main thread stops fdscan's job once per stop of the root: a stopped tracee reports its
  // group-stop again when woken by another signal, with no SIGCONT between.
  let rootStopped = false;
  const registry = new ForwardingRegistry(request.registry);
  /** Registry slot of each live process. */
  const slots = new Map<number, number>();
  // Pidfds are held only while descriptors to read tables remain: beyond that a process is
  // registered by pid, so that a big tree under a low limit loses no table.
  const spare = pidfdBudget(filtered);
  let pidfds = 0;
  return {
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
