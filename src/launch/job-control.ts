/**
 * A wrapped command run as a job of its own on fdscan's terminal, as a shell with job control runs
 * one: the command leads its own process group, which holds the terminal while fdscan's job is in
 * the foreground. The terminal's signals (Ctrl-C, Ctrl-\, a resize) then reach the command once,
 * from the terminal, and not fdscan, which forwards only what is sent to fdscan itself. When the
 * command stops (Ctrl-Z), fdscan takes the terminal back and stops its own job with the same
 * signal, so that its shell prints the prompt; continued (fg, bg), it continues the command's
 * group, handing it the terminal again when fdscan's job has it.
 */
import type { JobControl, TraceJobEvents } from '../probe-kit/contract.js';
import { probeFor } from '../platform/probe.js';

const FOREGROUND_CHECK_MS = 100;

/** Whether fdscan runs on a terminal of its session (where the platform can tell), whose keys signal its process group. */
export function onTerminal(): boolean {
  return probeFor().jobControl?.terminal() !== undefined;
}

/** The job control of one wrapped command (see the module comment). */
export class TerminalJob implements TraceJobEvents {
  /** The command's process group, once it exists and until it ended. */
  private group: number | undefined;
  private readonly onContinue = (): void => this.continued();
  /** Checks, while the command runs, whether fdscan's job was brought to the foreground. */
  private watch: NodeJS.Timeout | undefined;

  private constructor(private readonly control: JobControl, readonly terminal: number) {}

  /**
   * The job control for a command fdscan is about to wrap: undefined without a terminal (CI),
   * where fdscan does not lead its process group (started by a script, in the script's group), or
   * where the platform has none. The command then stays in fdscan's group, as before.
   */
  static forWrappedCommand(): TerminalJob | undefined {
    const control = probeFor().jobControl;
    const terminal = control?.terminal();
    return control && terminal?.leader ? new TerminalJob(control, terminal.fd) : undefined;
  }

  /** Start `argv` as the job (untraced: `run`); returns its pid, the id of its group. */
  spawn(argv: readonly Uint8Array[], env: readonly Uint8Array[], caller: Parameters<JobControl['spawn']>[2]): number {
    const pid = this.control.spawn(argv, env, caller, this.terminal);
    this.started(pid);
    return pid;
  }

  /** What became of the job's leader `pid` (started by spawn) since last asked. */
  poll(pid: number): ReturnType<JobControl['poll']> {
    return this.control.poll(pid);
  }

  started(pgid: number): void {
    this.group = pgid;
    process.on('SIGCONT', this.onContinue);
    // `fg` of a job running in the background can give fdscan's group the terminal without a
    // SIGCONT (bash 5.2 sent fdscan none): only looking tells.
    this.watch = setInterval(() => this.handOver(), FOREGROUND_CHECK_MS).unref();
  }

  stopped(signal: number): void {
    this.takeTerminal();
    // fdscan's whole job (a pipeline fdscan leads with it), as the terminal would have stopped it.
    try {
      process.kill(0, signal);
    } catch { /* cannot: the command stays stopped until continued from outside */ }
  }

  /** The command (its root) has ended: the terminal back to fdscan's job, if the command's group had it. */
  ended(): void {
    clearInterval(this.watch);
    process.off('SIGCONT', this.onContinue);
    this.takeTerminal();
    this.group = undefined;
  }

  /** fdscan was continued (fg or bg): so is the command, in the foreground when fdscan is. */
  private continued(): void {
    if (this.group === undefined) return;
    this.handOver();
    try {
      process.kill(-this.group, 'SIGCONT');
    } catch { /* the group has ended meanwhile */ }
  }

  /** When fdscan's job holds the terminal, give it to the command's group. */
  private handOver(): void {
    // fdscan leads its own group (JobControl.terminal), so its pid is its group's id.
    if (this.group !== undefined && this.control.foregroundGroup(this.terminal) === process.pid) {
      this.control.setForegroundGroup(this.terminal, this.group);
    }
  }

  /** Make fdscan's group the foreground one again, when the command's group holds the terminal. */
  private takeTerminal(): void {
    if (this.group !== undefined && this.control.foregroundGroup(this.terminal) === this.group) {
      this.control.setForegroundGroup(this.terminal, process.pid);
    }
  }
}

/**
 * A traced command left in fdscan's process group on a terminal (fdscan does not lead its group:
 * a script started it). A Ctrl-Z is sent to fdscan and the command alike; had fdscan stopped at
 * once, its tracer thread would have stopped before passing the command's stop on, and a program
 * that catches SIGTSTP and raises it again (less, vim) would have stopped only after the `fg` that
 * was to continue it, for good. So fdscan holds SIGTSTP while it traces and stops itself once the
 * command's root has stopped.
 */
export class SharedGroupJob implements TraceJobEvents {
  /** The command is not given a process group or the terminal (TraceRequest.terminal). */
  readonly terminal = undefined;
  private readonly hold = (): void => {};

  private constructor() {
    process.on('SIGTSTP', this.hold);
  }

  /** For a traced command: undefined unless fdscan is on a terminal and does not lead its group. */
  static forTracedCommand(): SharedGroupJob | undefined {
    const terminal = probeFor().jobControl?.terminal();
    return terminal && !terminal.leader ? new SharedGroupJob() : undefined;
  }

  started(): void {}

  stopped(): void {
    // SIGSTOP, which fdscan cannot hold: SIGTSTP stays held, with no moment after a SIGCONT where a
    // Ctrl-Z would stop fdscan before the command. (The shell reports the script's own stop.)
    try {
      process.kill(process.pid, 'SIGSTOP');
    } catch { /* cannot: fdscan runs on */ }
  }

  ended(): void {
    process.off('SIGTSTP', this.hold);
  }
}
