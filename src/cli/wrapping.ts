/**
 * What every command that wraps CMD (run, gate, inherit-diff, lifecycle) does so that CMD behaves
 * as it would without fdscan: the descriptors fdscan received are passed on as received, the
 * signals a wrapper should pass on are forwarded, and reports go to files opened before CMD runs
 * (src/files/report-file.ts).
 */
import { constants } from 'node:os';
import { probeFor } from '../platform/probe.js';
import { errorLine } from '../render/text.js';
import { CommandNotFound } from '../trace/trace-command.js';
import { EXIT_NOT_FOUND } from '../exit-codes.js';

/** The commands that wrap CMD. */
export const WRAPPING_COMMANDS: readonly string[] = ['run', 'gate', 'inherit-diff', 'lifecycle'];

/**
 * For a wrapping command, list what fdscan received before anything touches stdout: Node opens
 * /dev/null then (libuv's reserve for EMFILE), which would look received.
 */
export function noteReceived(args: readonly string[]): void {
  const command = args.find((a) => !a.startsWith('-'));
  if (command !== undefined && WRAPPING_COMMANDS.includes(command)) probeFor().noteReceived?.();
}

/**
 * Signals sent to fdscan that reach what it wraps: every one a program may be sent from outside
 * (without a listener most would kill fdscan and leave CMD running, unreported), where the
 * platform has it. SIGUSR1 among them: it never opens Node's inspector. Not forwarded: the job
 * control signals (the terminal sends those to CMD's process group itself), SIGCHLD, SIGPROF
 * (V8's profiler uses it), and the ones the kernel raises for a fault of fdscan itself (SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT).
 */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ([
  'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH',
  'SIGALRM', 'SIGVTALRM', 'SIGXCPU', 'SIGXFSZ', 'SIGPWR', 'SIGIO', 'SIGURG', 'SIGSTKFLT',
] as const).filter((signal) => signal in constants.signals);

/**
 * Give back what Node took at start-up: descriptors fdscan received that Node marked
 * close-on-exec become inheritable again, so CMD receives 3-15 (GNU make's jobserver, systemd's
 * LISTEN_FDS) as fdscan's caller gave them. Returns the descriptors restored. Call it before
 * fdscan opens anything that stays open: such a file would be taken for a received one.
 */
export function passOnReceived(): number[] {
  return probeFor().restoreReceived?.() ?? [];
}

/**
 * The working directory, or undefined when it was deleted (process.cwd() throws then): fdscan still
 * runs there, and a wrapped command inherits the directory as it is.
 */
export function workingDirectory(): string | undefined {
  try {
    return process.cwd();
  } catch {
    return undefined;
  }
}

/**
 * CMD does not exist: one line and exit 127, as a shell would say it. Returns whether `error` was
 * that (anything else is the caller's to throw).
 */
export function reportCommandNotFound(error: unknown): boolean {
  if (!(error instanceof CommandNotFound)) return false;
  process.stderr.write(errorLine(error.message));
  process.exitCode = EXIT_NOT_FOUND;
  return true;
}
