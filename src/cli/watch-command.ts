/** `fdscan watch PID [--interval 1s] [--count N] [--json]`: sample a live process's descriptors; Ctrl-C prints the summary. */
import type { Argv, CommandModule } from 'yargs';
import { heeded } from '../caller-state.js';
import { newLineAfterCtrlC } from './ctrl-c.js';
import { UsageError } from '../errors.js';
import { watchProcess } from '../lifecycle/watch-process.js';
import { renderWatchSample, renderWatchSummary } from '../render/watch-text.js';
import { parseDuration, parsePid, type ArgsOf } from './arguments.js';
import { EXIT_OK } from './exit-codes.js';

const ENDING_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

const watchBuilder = (yargs: Argv) =>
  yargs
    .positional('pid', { type: 'string', describe: 'The process to watch (one pid, required)' })
    .option('interval', { type: 'string', requiresArg: true, default: '1s', describe: 'Time between samples: 1s, 200ms, 0.5s, 2m' })
    .option('count', { type: 'number', requiresArg: true, describe: 'Stop after N samples (default: until Ctrl-C or the process exits)' })
    .option('json', { type: 'boolean', default: false, describe: 'Print only the summary, as JSON (schema fdscan/watch@1)' })
    .example('$0 watch 1234 --interval 5s', 'One line per sample; Ctrl-C prints the summary')
    .epilogue('An exec is seen as a change of argv between two samples.\n\nExit status: 0 when the watch ran (it reports, ' +
      'it does not judge); 2 when the process does not exist or cannot be read at the start, or on bad usage.');

type WatchArgs = ArgsOf<typeof watchBuilder>;

export const watchCommand: CommandModule<{}, WatchArgs> = {
  command: 'watch [pid]',
  describe: 'Sample a live process: descriptors that appear and stay, growth of the count, execs of the same pid',
  builder: watchBuilder,
  handler: (argv) => runWatch(argv),
};

async function runWatch(argv: WatchArgs): Promise<void> {
  // Operands after `--` arrive as a list (arguments.ts: operandsAfterDashes).
  const pids = [argv.pid ?? []].flat();
  if (pids.length !== 1) throw new UsageError(pids.length === 0 ? 'watch needs a pid: fdscan watch PID' : `watch takes one pid, not ${pids.length}`);
  const pid = parsePid(pids[0]!);
  const intervalMs = parseDuration(argv.interval, '--interval');
  if (argv.count !== undefined && (!Number.isInteger(argv.count) || argv.count < 1)) throw new UsageError('--count takes a positive whole number');
  // Ctrl-C, `kill`, `timeout` and a closed terminal all end the watch with its summary.
  const controller = new AbortController();
  let endedBy: NodeJS.Signals | undefined;
  const onInterrupt = (signal: NodeJS.Signals): void => {
    endedBy = signal;
    controller.abort();
  };
  for (const signal of heeded(ENDING_SIGNALS)) process.once(signal, onInterrupt);
  try {
    const summary = await watchProcess(pid, {
      intervalMs, count: argv.count, signal: controller.signal,
      onSample: argv.json ? undefined : (s) => process.stdout.write(renderWatchSample(s)),
    });
    newLineAfterCtrlC(endedBy);
    process.stdout.write(argv.json ? `${JSON.stringify({ schema: 'fdscan/watch@1', ...summary })}\n` : renderWatchSummary(summary));
    process.exitCode = EXIT_OK;
  } finally {
    for (const signal of heeded(ENDING_SIGNALS)) process.off(signal, onInterrupt);
  }
}
