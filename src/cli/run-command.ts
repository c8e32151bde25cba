/** `fdscan run --close-fds [--keep 3,5] -- CMD`: start CMD with only 0, 1, 2 and the kept descriptors. */
import { isUtf8 } from 'node:buffer';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Argv, CommandModule } from 'yargs';
import { callerState, entryValue, environmentRecord, heeded, shellStep } from '../launch/caller-state.js';
import { onSignals } from '../launch/signals.js';
import { exactCommand } from '../launch/invocation.js';
import { UsageError } from '../errors.js';
import { findExecutable } from '../trace/trace-command.js';
import { markAllCloseOnExec } from '../launch/close-fds.js';
import { withBlockingStdio } from '../launch/stdio-mode.js';
import { errorLine } from '../render/text.js';
import { listDescriptors } from '../audit/audit.js';
import { shellStatus } from '../probe-kit/exit-status.js';
import { FORWARDED_SIGNALS, passOnReceived, reportCommandNotFound } from './wrapping.js';
import { TerminalJob } from '../launch/job-control.js';
import { parseKeep, wrappedCommand, type ArgsOf, type PassThrough } from './arguments.js';
import { EXIT_ERROR, EXIT_NOT_FOUND } from '../exit-codes.js';
import { probeFor } from '../platform/probe.js';
import type { Probe, StartedCommand } from '../probe-kit/contract.js';

const EXIT_NOT_EXECUTABLE = 126;

const runBuilder = (yargs: Argv) =>
  yargs
    .option('close-fds', { type: 'boolean', default: false, describe: 'Mark every other descriptor close-on-exec first (close_range, or fcntl per fd)' })
    .option('keep', { type: 'string', array: true, requiresArg: true, describe: 'Descriptors to pass on as well, comma-separated: --keep 3,5' })
    .example('$0 run --close-fds -- ./server', 'Start ./server without anything the shell leaked to fdscan')
    .example('$0 run --close-fds --keep 3 -- ./worker', 'Pass fd 3 on, nothing else')
    .epilogue("Exit status: CMD's own (128+N when a signal N killed it), 127 when CMD is not found, 126 when it cannot\n" +
      'be executed, 2 on bad usage. Signals sent to fdscan (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,\n' +
      'SIGALRM and the other asynchronous ones) are forwarded to CMD; what the caller left ignored stays ignored.\n' +
      'Started from a shell on a terminal, CMD runs as a job of its own: Ctrl-C reaches it once, Ctrl-Z, fg and bg work.\n' +
      'CMD receives every descriptor fdscan received, 3-15 included (Node marks those close-on-exec at start-up;\n' +
      'fdscan gives them back), unless --close-fds.');

type RunArgs = ArgsOf<typeof runBuilder> & PassThrough;

export const runCommand: CommandModule<{}, RunArgs> = {
  command: 'run',
  describe: 'Run a command; with --close-fds it receives only stdin, stdout, stderr and --keep descriptors',
  builder: runBuilder,
  handler: (argv) => runRun(argv),
};

async function runRun(argv: RunArgs): Promise<void> {
  const command = wrappedCommand(argv);
  if (command.length === 0) throw new UsageError('run needs a command: fdscan run --close-fds -- CMD [ARGS...]');
  const keep = parseKeep(argv.keep);
  if (keep.length > 0 && !argv['close-fds']) throw new UsageError('--keep only makes sense with --close-fds');
  passOnReceived();
  if (argv['close-fds']) {
    // Only what fdscan itself received can be kept: its own descriptors (epoll, libuv's pipes) never.
    // 0, 1 and 2 are always passed on: keeping them asks for nothing more.
    const received = listDescriptors(process.pid, { peers: false }).fds.filter((d) => d.inheritable && d.fd > 2).map((d) => d.fd).sort((a, b) => a - b);
    const foreign = keep.filter((fd) => fd > 2 && !received.includes(fd));
    if (foreign.length > 0) {
      const those = foreign.length === 1 ? 'that descriptor' : 'those descriptors';
      throw new UsageError(`--keep ${foreign.join(',')}: fdscan did not receive ${those} (it received ${received.length > 0 ? received.join(', ') : 'none beyond 0, 1, 2'})`);
    }
    const probe = probeFor();
    if (probe.startPassingOnly) {
      await runPassingOnly(command, keep, probe.startPassingOnly.bind(probe));
      return;
    }
    markAllCloseOnExec({ keep });
  }
  const job = TerminalJob.forWrappedCommand();
  await withBlockingStdio(() => (job ? runJob(command, job) : runChild(command)));
}

/**
 * CMD itself, or, when the launcher recorded what Node took from fdscan's caller (ignored
 * signals, the soft descriptor limit) or CMD's argv or environment holds bytes a string cannot
 * (not UTF-8), a POSIX shell step that gives those back and execs CMD in its place: same pid,
 * same descriptors.
 */
function startChild(command: string[]): ChildProcess {
  const exact = exactCommand(command);
  if (!callerState().recorded && exact.argv.every(isUtf8) && exact.env.every(isUtf8)) return spawn(command[0]!, command.slice(1), { stdio: 'inherit' });
  // The shell would report a missing CMD in its own words and exit 127: say it as fdscan does.
  findExecutable(exact.argv[0]!, entryValue(exact.env, 'PATH'));
  const step = shellStep('exec "$@"', exact.argv, exact.env, { text: true, stdioAsGiven: true });
  return spawn('/bin/sh', ['-c', step.script, 'fdscan', ...step.argv.map(String)], { stdio: 'inherit', env: environmentRecord(step.env) });
}

/**
 * CMD as a job of its own on fdscan's terminal (src/launch/job-control.ts): the terminal signals it
 * alone; fdscan forwards what is sent to fdscan, follows its stops (SIGCHLD) and reaps it.
 */
async function runJob(command: string[], job: TerminalJob): Promise<void> {
  const exact = exactCommand(command);
  try {
    findExecutable(exact.argv[0]!, entryValue(exact.env, 'PATH'));
  } catch (error) {
    if (!reportCommandNotFound(error)) throw error;
    return;
  }
  // Listeners first: CMD may signal fdscan as soon as it runs; `leader` is set before any listener runs.
  let leader: number | undefined;
  let ended: ((status: number) => void) | undefined;
  const follow = (): void => {
    if (leader === undefined) return;
    for (let state = job.poll(leader); state; state = leader === undefined ? undefined : job.poll(leader)) {
      if (state.kind === 'stopped') {
        job.stopped(state.signal);
      } else if (state.kind === 'exited' || state.kind === 'killed') {
        // Reaped: its pid is no longer CMD's to signal.
        leader = undefined;
        ended?.(state.kind === 'exited' ? state.code : shellStatus(undefined, state.signal));
      }
    }
  };
  const stopForwarding = forwardSignals((signal) => {
    if (leader !== undefined) process.kill(leader, signal);
  });
  process.on('SIGCHLD', follow);
  // Signal listeners do not keep Node's event loop alive, and CMD is no child process of Node's.
  const alive = setInterval(() => {}, 2 ** 30);
  try {
    process.exitCode = await new Promise<number>((resolve) => {
      ended = resolve;
      leader = job.spawn(exact.argv, exact.env, callerState());
      // It may have ended before the listener could run.
      follow();
    });
  } finally {
    clearInterval(alive);
    process.off('SIGCHLD', follow);
    stopForwarding();
    job.ended();
  }
}

async function runChild(command: string[]): Promise<void> {
  // Listeners first: CMD may signal fdscan before spawn() returns, and a signal without a listener
  // would kill fdscan. A listener runs on the event loop, so never before `child` is set below.
  let child: ChildProcess | undefined;
  const stopForwarding = forwardSignals((signal) => child?.kill(signal));
  try {
    child = startChild(command);
  } catch (error) {
    stopForwarding();
    if (!reportCommandNotFound(error)) throw error;
    return;
  }
  const started = child;
  try {
    process.exitCode = await new Promise<number>((resolve) => {
      started.once('error', (error: NodeJS.ErrnoException) => {
        process.stderr.write(errorLine(`cannot run ${command[0]}: ${error.code ?? error.message}`));
        resolve(error.code === 'ENOENT' ? EXIT_NOT_FOUND : error.code === 'EACCES' ? EXIT_NOT_EXECUTABLE : EXIT_ERROR);
      });
      started.once('exit', (code, signal) => resolve(code === null && signal === null ? EXIT_ERROR : shellStatus(code, signal)));
    });
  } finally {
    stopForwarding();
  }
}

/** How often a command started by startPassingOnly is asked whether it has exited. */
const POLL_MS = 50;

/** Windows: CMD started with a list of the handles it may receive; fdscan's own are left as they are. */
async function runPassingOnly(command: string[], keep: number[], start: NonNullable<Probe['startPassingOnly']>): Promise<void> {
  const exact = exactCommand(command);
  let started: StartedCommand;
  try {
    findExecutable(exact.argv[0]!, entryValue(exact.env, 'PATH'));
    started = start(exact.argv, exact.env, keep);
  } catch (error) {
    if (!reportCommandNotFound(error)) throw error;
    return;
  }
  const stopForwarding = forwardSignals(() => started.terminate(1));
  try {
    process.exitCode = await new Promise<number>((resolve) => {
      const timer = setInterval(() => {
        const code = started.poll();
        if (code !== undefined) { clearInterval(timer); resolve(code); }
      }, POLL_MS);
    });
  } finally {
    stopForwarding();
  }
}

/**
 * Pass each signal fdscan heeds of FORWARDED_SIGNALS to `to` until the returned function is
 * called. Install it before CMD starts: a signal without a listener would kill fdscan.
 */
function forwardSignals(to: (signal: NodeJS.Signals) => void): () => void {
  return onSignals(heeded(FORWARDED_SIGNALS), to);
}
