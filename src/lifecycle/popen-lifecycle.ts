/**
 * The Popen lifecycle experiment, run in this process: open a file, spawn a command with piped
 * stdio, communicate, wait, release the child object, close the file; this process's descriptor
 * table after each step, and every descriptor that outlived the step that should have closed it.
 *
 * Why a warm-up spawn first: the first child a Node process starts with piped stdio makes the runtime
 * open descriptors it keeps for the life of the process (libuv's SIGCHLD signal pipe, a /dev/null
 * seen on Node 20). They are the runtime's, not the lifecycle's.
 */
import type { DescriptorOrigin } from '../probe-kit/trace-result.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Descriptor } from '../probe-kit/contract.js';
import { listDescriptors } from '../audit/audit.js';
import { descriptorKey as key, sameObject } from '../audit/descriptor-identity.js';
import { shellStatus } from '../probe-kit/exit-status.js';
import { errnoOf, FdscanError, UsageError } from '../errors.js';
import { waitUntilStopped } from '../launch/stopped-child.js';
import { STOP_THEN_EXEC } from '../probe-kit/stop-stub.js';
import { entryValue, environmentEntries, environmentRecord, shellStep } from '../launch/caller-state.js';
import { findExecutable } from '../trace/trace-command.js';

export type LifecycleStepName = 'start' | 'open-file' | 'spawn' | 'communicate' | 'wait' | 'release' | 'close-file';

/** The table after one step, against the step before. */
export interface LifecycleStep {
  step: LifecycleStepName;
  /** What the step did, in words. */
  action: string;
  fds: Descriptor[];
  opened: Descriptor[];
  closed: Descriptor[];
}

/** A descriptor still open after the step that should have closed it. */
export interface OutlivedDescriptor {
  descriptor: Descriptor;
  openedAt: LifecycleStepName;
  shouldCloseAt: LifecycleStepName;
  /**
   * Where it was made, in the shape of the gate's origins: always `unknown`, because the maker is
   * fdscan itself (`fdscan-itself`: the step `openedAt` made it), which does not trace its own calls.
   */
  origin: DescriptorOrigin;
}

export interface LifecycleResult {
  command: string[];
  pid: number;
  childPid?: number;
  steps: LifecycleStep[];
  /**
   * Exactly what the child received at its exec: its table read while it was held stopped just
   * before it. Windows (`readAfterStart`): read as soon as it started, its handles that this process
   * held inheritable at the same value and type before the spawn (what CreateProcess passed).
   */
  child?: { fds: Descriptor[]; error?: string; readAfterStart?: boolean };
  /**
   * Child descriptors beyond 0, 1, 2; `fromFdscan` when the same object was in fdscan's table at
   * start (ambient). `origin`: `before-trace` for those, `fdscan-itself` for what a step made.
   */
  childExtra: Array<Descriptor & { fromFdscan: boolean; origin: DescriptorOrigin }>;
  outlived: OutlivedDescriptor[];
  stdoutBytes: number;
  stderrBytes: number;
  /** The child's exit status, shell convention. */
  exitCode: number;
  /** Set when the run was stopped early (the abort signal's reason, e.g. SIGTERM): the steps seen so far. */
  interrupted?: string;
}

/** How to run the experiment. */
export interface LifecycleOptions {
  /** Written to the child's stdin (default: one line). */
  input?: string;
  /** Aborting stops the child, removes the scratch folder and resolves with the steps seen so far. */
  signal?: AbortSignal;
  /**
   * The command exactly, where text cannot hold it (bytes that are not UTF-8): its argv (`command`
   * as text) and its `NAME=value` environment entries as bytes. Default: `command` and process.env.
   */
  exact?: { argv: Uint8Array[]; env: Uint8Array[] };
  /**
   * Start the child in a session of its own (setsid), out of reach of this process's terminal:
   * a Ctrl-C then reaches this process alone, whose abort passes it on once, not a second time
   * after the terminal (default false).
   */
  ownSession?: boolean;
}

/** When each step's new descriptors must be gone. */
const CLOSES: Partial<Record<LifecycleStepName, LifecycleStepName>> = {
  'open-file': 'close-file',
  spawn: 'communicate',
  communicate: 'close-file',
  wait: 'close-file',
  release: 'close-file',
};

/** Run the lifecycle experiment with `command`, writing `options.input` to its stdin. */
export async function runLifecycle(command: string[], options: LifecycleOptions = {}): Promise<LifecycleResult> {
  if (!Array.isArray(command) || command.length === 0 || !command.every((a) => typeof a === 'string')) {
    throw new UsageError('lifecycle needs a command: a non-empty array of strings');
  }
  // Checked before CMD starts: a bad input found while writing it had left CMD running, waiting.
  if (options.input !== undefined && typeof options.input !== 'string') throw new UsageError('lifecycle input must be a string');
  const input = options.input ?? 'hello from fdscan lifecycle\n';
  const exact = options.exact ?? { argv: command.map((arg) => Buffer.from(arg)), env: environmentEntries(process.env) };
  findExecutable(exact.argv[0]!, entryValue(exact.env, 'PATH'));
  await warmUp();
  const steps: LifecycleStep[] = [];
  const record = (step: LifecycleStepName, action: string): void => {
    const fds = listDescriptors(process.pid, { peers: false }).fds;
    const previous = steps[steps.length - 1]?.fds ?? [];
    const before = new Set(previous.map(key));
    const now = new Set(fds.map(key));
    steps.push({ step, action, fds, opened: fds.filter((d) => !before.has(key(d))), closed: previous.filter((d) => !now.has(key(d))) });
  };
  record('start', 'nothing yet');
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-lifecycle-'));
  const file = openSync(join(dir, 'scratch.txt'), 'w+');
  let fileOpen = true;
  const result: Partial<LifecycleResult> = {};
  let child: ChildProcess | undefined;
  // Once: the abort listener and the Interrupted path below both stop the child, which must get
  // the signal once (twice, a program that exits at once on a second Ctrl-C would).
  let stopSent = false;
  const stopChild = (): void => {
    if (stopSent || !child || child.exitCode !== null || child.signalCode !== null) return;
    stopSent = true;
    // The child may be held stopped: continue it so the signal can act.
    child.kill(options.signal?.reason as NodeJS.Signals ?? 'SIGTERM');
    child.kill('SIGCONT');
  };
  const onAbort = stopChild;
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    record('open-file', `opened ${join(dir, 'scratch.txt')} as fd ${file}`);
    if (options.signal?.aborted) throw new Interrupted();
    const windows = process.platform === 'win32';
    if (windows) {
      // No shell to hold the child stopped: Node's own spawn (CreateProcess, bInheritHandles TRUE),
      // the child's table read as soon as it started (readAfterStart).
      const [file, ...args] = exact.argv.map((a) => Buffer.from(a).toString('utf8'));
      child = spawn(file!, args, { stdio: 'pipe', env: environmentRecord(exact.env), windowsHide: true });
    } else {
      // Held stopped just before its exec, its table is exactly what the command will receive,
      // however soon the command then exits or changes it.
      const step = shellStep(STOP_THEN_EXEC, exact.argv, exact.env, { text: true });
      child = spawn('/bin/sh', ['-c', step.script, 'sh', ...step.argv.map(String)], { stdio: 'pipe', env: environmentRecord(step.env), detached: options.ownSession ?? false });
    }
    await new Promise<void>((resolve, reject) => {
      child!.once('spawn', resolve);
      child!.once('error', (error) => reject(new FdscanError('ESPAWN', `cannot run ${command[0]}: ${errnoOf(error) ?? error.message}`, { cause: error })));
    });
    const childPid = child.pid!;
    const exited = new Promise<number>((resolve) => child!.once('exit', (code, signal) => resolve(shellStatus(code, signal))));
    let childView: LifecycleResult['child'];
    try {
      if (windows) {
        childView = { fds: receivedHandles(steps[steps.length - 1]!.fds, listDescriptors(childPid, { peers: false }).fds), readAfterStart: true };
      } else {
        await waitUntilStopped(childPid, command[0]!);
        // What is close-on-exec now is closed by the exec: the command never holds it.
        childView = { fds: listDescriptors(childPid, { peers: false }).fds.filter((d) => d.inheritable !== false) };
      }
    } catch (error) {
      if (!(error instanceof FdscanError)) throw error;
      childView = { fds: [], error: error.message };
    } finally {
      if (!windows) child.kill('SIGCONT');
    }
    if (options.signal?.aborted) throw new Interrupted();
    record('spawn', `spawned ${command[0]} (pid ${childPid}) with stdin, stdout and stderr piped`);
    let stdoutBytes = 0;
    let stderrBytes = 0;
    child.stdout!.on('data', (chunk: Buffer) => { stdoutBytes += chunk.length; });
    child.stderr!.on('data', (chunk: Buffer) => { stderrBytes += chunk.length; });
    const closed = (stream: NodeJS.EventEmitter): Promise<void> => new Promise((resolve) => stream.once('close', () => resolve()));
    const streamsClosed = Promise.all([closed(child.stdin!), closed(child.stdout!), closed(child.stderr!)]);
    child.stdin!.on('error', () => { /* EPIPE: the command did not read its input; the step still closes the pipe */ });
    child.stdin!.end(input);
    await Promise.race([streamsClosed, aborted(options.signal)]);
    record('communicate', `wrote ${Buffer.byteLength(input)} bytes, closed stdin, read stdout (${stdoutBytes} bytes) and stderr (${stderrBytes} bytes) to the end`);
    const exitCode = await exited;
    if (options.signal?.aborted) throw new Interrupted();
    record('wait', `reaped pid ${childPid}: exit status ${exitCode}`);
    child.removeAllListeners();
    child = undefined;
    record('release', 'dropped the ChildProcess object');
    closeSync(file);
    fileOpen = false;
    record('close-file', `closed fd ${file}`);
    Object.assign(result, { childPid, child: childView, stdoutBytes, stderrBytes, exitCode });
  } catch (error) {
    if (!(error instanceof Interrupted)) throw error;
    // Stopped early: the abort may have come before the child existed; stop it now, then wait.
    stopChild();
    if (child && child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child!.once('exit', resolve));
    Object.assign(result, { childPid: child?.pid, exitCode: shellStatus(child?.exitCode, child?.signalCode), stdoutBytes: 0, stderrBytes: 0, interrupted: String(options.signal?.reason ?? 'aborted') });
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (fileOpen) closeSync(file);
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    command, pid: process.pid, ...result, steps,
    childExtra: (result.child?.fds ?? []).filter((d) => d.fd > 2).map((d) => {
      const fromFdscan = steps[0]!.fds.some((s) => sameObject(s, d));
      return { ...d, fromFdscan, origin: { unknown: fromFdscan ? 'before-trace' : 'fdscan-itself', pid: process.pid } };
    }),
    outlived: outlivedIn(steps),
  } as LifecycleResult;
}

/**
 * Windows: the child's handles it received from this process: inheritable in the child (inherited
 * handles keep the flag) at a value this process held inheritable, with the same type, before the
 * spawn. The standard handles libuv made for the child are closed here by then: not among them.
 */
function receivedHandles(parent: readonly Descriptor[], child: readonly Descriptor[]): Descriptor[] {
  const passed = new Map(parent.filter((d) => d.inheritable === true).map((d) => [d.fd, d.type]));
  return child.filter((d) => d.inheritable === true && passed.get(d.fd) === d.type);
}

/** The run was aborted (options.signal). */
class Interrupted extends Error {}

/** Rejects with Interrupted once `signal` aborts; never settles without one. */
function aborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (!signal) return;
    if (signal.aborted) reject(new Interrupted());
    else signal.addEventListener('abort', () => reject(new Interrupted()), { once: true });
  });
}

/** Every descriptor opened at a step and still open after the step that should have closed it. */
function outlivedIn(steps: LifecycleStep[]): OutlivedDescriptor[] {
  const outlived: OutlivedDescriptor[] = [];
  for (const step of steps) {
    const due = CLOSES[step.step];
    if (!due) continue;
    const after = steps.find((s) => s.step === due);
    if (!after) continue;
    const still = new Set(after.fds.map(key));
    for (const d of step.opened) if (still.has(key(d))) outlived.push({ descriptor: d, openedAt: step.step, shouldCloseAt: due, origin: { unknown: 'fdscan-itself', pid: process.pid } });
  }
  return outlived;
}


/** Start and reap one child with piped stdio so the runtime's process-lifetime descriptors exist before the first snapshot. */
async function warmUp(): Promise<void> {
  await new Promise<void>((resolve) => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'pipe' });
    child.stdin.end();
    child.stdout.resume();
    child.stderr.resume();
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
}
