/** `traceCommand`: run a command under the platform's exec tracer and return every process and what each exec received. */
import { accessSync, constants as fsConstants } from 'node:fs';
import { constants } from 'node:os';
import { delimiter, sep } from 'node:path';
import type { TraceRequest, TraceSession } from '../probe-kit/contract.js';
import { callerState, entryValue, environmentEntries } from '../launch/caller-state.js';
import { onSignals } from '../launch/signals.js';
import { FdscanError, UnsupportedPlatform, UsageError, crossesThreads } from '../errors.js';
import { probeFor } from '../platform/probe.js';
import { withBlockingStdio } from '../launch/stdio-mode.js';
import type { TraceResult } from '../probe-kit/trace-result.js';
import type { SharedGroupJob, TerminalJob } from '../launch/job-control.js';

/** How to run the traced command. */
export interface TraceOptions {
  /** Environment of the command (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /**
   * The command exactly, where text cannot hold it (bytes that are not UTF-8): its argv (`argv`
   * as text) and its `NAME=value` environment entries as bytes. Overrides `env`.
   */
  exact?: { argv: Uint8Array[]; env: Uint8Array[] };
  /** `auto` (default): ptrace, or sampling with a warning where ptrace is refused. */
  method?: 'auto' | 'ptrace' | 'sampling';
  /** Sampling period in the fallback (default 10 ms). */
  samplingIntervalMs?: number;
  /** Signals this process forwards to every live process of the tree while the trace runs. */
  forwardSignals?: NodeJS.Signals[];
  /**
   * Read each process's table as it exits (`exit.held`, default true). Costs a stop and a table
   * read per process; the gate and inherit-diff never look at it.
   */
  exitTables?: boolean;
  /**
   * Read descriptors 0, 1 and 2 of each exec in full (default true). Off, those three rows carry
   * only type, target, device and inode (no flags, offset, access or socket details), about a third
   * of the reads: the gate and the text report of inherit-diff look no further.
   */
  fullStdio?: boolean;
  /**
   * Record where each descriptor made inheritable in the tree was made (default true; Linux's exact
   * tracer): `TracedProcess.origins`, looked up with OriginIndex. A seccomp filter in the traced
   * tree stops only the calls that can make an inheritable descriptor or clear close-on-exec.
   */
  origins?: boolean;
  /**
   * Job control on fdscan's terminal: the command as a job of its own (TerminalJob), or in
   * fdscan's group with fdscan stopping after it (SharedGroupJob). Whoever made it ends it
   * (`ended()`), also when the command never started.
   */
  job?: TerminalJob | SharedGroupJob;
}

/** The command does not exist or is not executable (exit status 127, as a shell would). */
export class CommandNotFound extends FdscanError {
  static { crossesThreads(this); }
  constructor(command: string) {
    super('ENOCOMMAND', `command not found: ${command}`);
  }
}

/**
 * Trace `argv` and its whole process tree; resolves when every process of the tree has exited.
 * The command shares this process's 0, 1 and 2 (O_NONBLOCK cleared on them meanwhile, see stdio-mode.ts).
 */
export async function traceCommand(argv: string[], options: TraceOptions = {}): Promise<TraceResult> {
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string')) {
    throw new UsageError('traceCommand: argv must be a non-empty array of strings');
  }
  for (const signal of options.forwardSignals ?? []) checkForwardable(signal);
  const tracer = probeFor().tracer;
  if (!tracer) throw new UnsupportedPlatform(process.platform, 'exec tracer');
  const env = options.env ?? process.env;
  findExecutable(options.exact?.argv[0] ?? argv[0]!, options.exact ? entryValue(options.exact.env, 'PATH') : env.PATH);
  // The tracer is a worker thread, and Node cannot start one in a deleted working directory (its
  // thread start-up asks for the directory and fails).
  try {
    process.cwd();
  } catch {
    throw new FdscanError('ENOCWD', 'the working directory was deleted, and Node cannot start the tracer thread there: cd to a directory that exists');
  }
  const request: TraceRequest = {
    argv,
    exec: options.exact ?? {
      argv: argv.map((arg) => Buffer.from(arg)),
      env: environmentEntries(env),
    },
    method: options.method ?? 'auto',
    samplingIntervalMs: options.samplingIntervalMs ?? 10,
    exitTables: options.exitTables ?? true,
    caller: callerState(),
    fullStdio: options.fullStdio ?? true,
    origins: options.origins ?? true,
    terminal: options.job?.terminal,
  };
  return withBlockingStdio(async () => {
    // Listeners first: the tracer starts the command at once. A listener runs on this thread's
    // event loop, so never before `session` is set below. The tracer registers every process as it
    // appears; one registered after a signal was forwarded gets what it missed.
    let session: TraceSession | undefined;
    const stopForwarding = onSignals(options.forwardSignals ?? [], (signal) => session?.forward(constants.signals[signal]));
    try {
      session = tracer.trace(request, options.job);
      return await session.result;
    } catch (error) {
      throw error instanceof FdscanError && error.code === 'ENOCOMMAND' ? new CommandNotFound(argv[0]!) : error;
    } finally {
      stopForwarding();
    }
  });
}

/** A signal this process can catch and forward: a known name, not SIGKILL or SIGSTOP. */
function checkForwardable(signal: unknown): void {
  if (typeof signal !== 'string' || !(signal in constants.signals)) throw new UsageError(`not a signal name: ${String(signal)}`);
  if (signal === 'SIGKILL' || signal === 'SIGSTOP') throw new UsageError(`${signal} cannot be caught, so it cannot be forwarded`);
}

/**
 * The path a shell would run for `command`, or CommandNotFound. Bytes are looked up as they are:
 * a name that is not UTF-8 is not the name with U+FFFD in it.
 */
export function findExecutable(command: string | Uint8Array, path: string | Uint8Array | undefined): string {
  const name = Buffer.from(command);
  // latin1 keeps each byte as one character, and back.
  const dirs = (path === undefined ? '/usr/bin:/bin' : Buffer.from(path).toString('latin1')).split(delimiter).map((dir) => Buffer.from(dir, 'latin1'));
  const windows = process.platform === 'win32';
  const qualified = name.includes('/') || (windows && (name.includes('\\') || /^[a-z]:/i.test(name.toString())));
  let candidates = qualified ? [name] : dirs.map((dir) => Buffer.concat([dir.length > 0 ? dir : Buffer.from('.'), Buffer.from(sep), name]));
  // CreateProcessW appends .exe to a name without an extension, as cmd.exe's PATHEXT search does for .com too.
  if (windows) candidates = candidates.flatMap((c) => [c, Buffer.concat([c, Buffer.from('.exe')]), Buffer.concat([c, Buffer.from('.com')])]);
  for (const candidate of candidates) {
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate.toString();
    } catch { /* next */ }
  }
  throw new CommandNotFound(name.toString());
}
