/** `fdscan run --close-fds [--keep 3,5] -- CMD`: start CMD with only 0, 1, 2 and the kept descriptors. */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../errors.js';
import { markAllCloseOnExec } from '../close-fds.js';
import { withBlockingStdio } from '../stdio-mode.js';
import { errorLine } from '../render/text.js';
import { parseKeep, wrappedCommand, type ArgsOf, type PassThrough } from './arguments.js';
import { EXIT_ERROR, EXIT_NOT_FOUND } from './exit-codes.js';

const EXIT_NOT_EXECUTABLE = 126;
const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const runBuilder = (yargs: Argv) =>
  yargs
    .option('close-fds', { type: 'boolean', default: false, describe: 'Mark every other descriptor close-on-exec first (close_range, or fcntl per fd)' })
    .option('keep', { type: 'string', array: true, describe: 'Descriptors to pass on as well, comma-separated: --keep 3,5' })
    .example('$0 run --close-fds -- ./server', 'Start ./server without anything the shell leaked to fdscan')
    .example('$0 run --close-fds --keep 3 -- ./worker', 'Pass fd 3 on, nothing else')
    .epilogue("Exit status: CMD's own (128+N when a signal N killed it), 127 when CMD is not found, 126 when it cannot\n" +
      'be executed, 2 on bad usage. SIGINT, SIGTERM and SIGHUP sent to fdscan are forwarded to CMD.');

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
  if (argv['close-fds']) markAllCloseOnExec({ keep });
  await withBlockingStdio(() => runChild(command));
}

async function runChild(command: string[]): Promise<void> {
  const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit' });
  const forwarders = FORWARDED.map((signal) => {
    const listener = (): void => { child.kill(signal); };
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  try {
    process.exitCode = await new Promise<number>((resolve) => {
      child.once('error', (error: NodeJS.ErrnoException) => {
        process.stderr.write(errorLine(`cannot run ${command[0]}: ${error.code ?? error.message}`));
        resolve(error.code === 'ENOENT' ? EXIT_NOT_FOUND : error.code === 'EACCES' ? EXIT_NOT_EXECUTABLE : EXIT_ERROR);
      });
      child.once('exit', (code, signal) => resolve(signal ? 128 + constants.signals[signal] : (code ?? EXIT_ERROR)));
    });
  } finally {
    for (const [signal, listener] of forwarders) process.off(signal, listener);
  }
}
