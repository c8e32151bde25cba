/** `traceCommand`: run a command under the exec tracer and return every process and what each exec received. */
import { accessSync, closeSync, constants as fsConstants } from 'node:fs';
import { constants } from 'node:os';
import { delimiter, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { FdscanError, UnsupportedPlatform, UsageError } from '../errors.js';
import { pidfdSendSignal } from '../../probes/linux/libc.js';
import { withBlockingStdio } from '../stdio-mode.js';
import { ForwardingRegistry, newRegistryBuffer } from './forwarding-registry.js';
import type { TraceRequest, TracerMessage } from './tracer-worker.js';
import type { TraceResult } from './trace-result.js';

/** How to run the traced command. */
export interface TraceOptions {
  /** Environment of the command (default: this process's). */
  env?: NodeJS.ProcessEnv;
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
}

/** The command does not exist or is not executable (exit status 127, as a shell would). */
export class CommandNotFound extends FdscanError {
  constructor(command: string) {
    super('ENOCOMMAND', `command not found: ${command}`);
  }
}

/**
 * Trace `argv` and its whole process tree; resolves when every process of the tree has exited.
 * The command shares this process's 0, 1 and 2 (O_NONBLOCK cleared on them meanwhile, see stdio-mode.ts).
 */
export async function traceCommand(argv: string[], options: TraceOptions = {}): Promise<TraceResult> {
  if (process.platform !== 'linux') throw new UnsupportedPlatform(process.platform);
  if (argv.length === 0) throw new UsageError('no command to trace');
  const env = options.env ?? process.env;
  findExecutable(argv[0]!, env.PATH);
  const request: TraceRequest = {
    argv,
    env: Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`),
    method: options.method ?? 'auto',
    samplingIntervalMs: options.samplingIntervalMs ?? 10,
    exitTables: options.exitTables ?? true,
    registry: newRegistryBuffer(),
  };
  // The tracer thread registers every process (see the worker's onProcess); one it registers
  // after this gets what it missed, the root every signal forwarded before it.
  const registry = new ForwardingRegistry(request.registry);
  const forward = (signal: NodeJS.Signals): void => registry.forward(constants.signals[signal], pidfdSendSignal);
  // Listeners first: the tracer thread spawns the command as soon as it starts.
  const listeners = (options.forwardSignals ?? []).map((signal) => {
    const listener = (): void => forward(signal);
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  const worker = new Worker(new URL('./tracer-worker.js', import.meta.url), { workerData: request });
  try {
    return await withBlockingStdio(() => new Promise<TraceResult>((resolve, reject) => {
      worker.on('message', (message: TracerMessage) => {
        switch (message.type) {
          case 'result':
            resolve(message.result);
            break;
          case 'error':
            reject(message.code === 'ENOCOMMAND' ? new CommandNotFound(argv[0]!) : new FdscanError(message.code, message.message));
            break;
        }
      });
      worker.once('error', (error) => reject(new FdscanError('ETRACE', `tracer thread failed: ${error.message}`, { cause: error })));
      worker.once('exit', (code) => reject(new FdscanError('ETRACE', `tracer thread ended (code ${code}) without a result`)));
    }));
  } finally {
    for (const [signal, listener] of listeners) process.off(signal, listener);
    await worker.terminate();
    // Left only when the tracer thread failed: it closes each as its process exits.
    for (const pidfd of registry.remaining()) closeSync(pidfd);
  }
}

/** The path a shell would run for `command`, or CommandNotFound. */
export function findExecutable(command: string, path: string | undefined): string {
  const candidates = command.includes('/') ? [command] : (path ?? '/usr/bin:/bin').split(delimiter).map((dir) => join(dir || '.', command));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch { /* next */ }
  }
  throw new CommandNotFound(command);
}
