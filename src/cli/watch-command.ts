/** `fdscan watch PID [--interval 1s] [--count N] [--json] [--origins] [--html FILE]`: sample a live process's descriptors; Ctrl-C prints the summary. */
import type { Argv, CommandModule } from 'yargs';
import { heeded } from '../launch/caller-state.js';
import { ENDING_SIGNALS, onSignals } from '../launch/signals.js';
import { newLineAfterCtrlC } from './ctrl-c.js';
import { UsageError } from '../errors.js';
import { watchProcess } from '../watch/watch-process.js';
import { renderWatchSample, renderWatchSummary } from '../render/watch-text.js';
import { parseDuration, type ArgsOf } from './arguments.js';
import { parsePid } from '../audit/pid.js';
import { EXIT_OK } from '../exit-codes.js';
import { WatchHistory } from '../watch/watch-history.js';
import { openPageFile } from '../render/html/page.js';
import { writeWatchPage } from '../render/html/watch-page.js';

const watchBuilder = (yargs: Argv) =>
  yargs
    .positional('pid', { type: 'string', describe: 'The process to watch (one pid, required)' })
    .option('interval', { type: 'string', requiresArg: true, default: '1s', describe: 'Time between samples: 1s, 200ms, 0.5s, 2m' })
    .option('count', { type: 'number', requiresArg: true, describe: 'Stop after N samples (default: until Ctrl-C or the process exits)' })
    .option('json', { type: 'boolean', default: false, describe: 'Print only the summary, as JSON (schema fdscan/watch@1)' })
    .option('origins', {
      type: 'boolean', default: false,
      describe: 'Also follow the process (ptrace, every thread) to tell where each new descriptor was made: the call, its flags, the stack (Linux)',
    })
    .example('$0 watch 1234 --interval 5s', 'One line per sample; Ctrl-C prints the summary')
    .option('html', {
      type: 'string', requiresArg: true,
      describe: 'Also write a self-contained HTML page to FILE when the watch ends (Ctrl-C, SIGTERM, --count, the process exiting): the count over time as a chart, total and by type, and the descriptors that appeared and stayed',
    })
    .example('$0 watch 1234 --interval 5s --html watch.html', 'The same, and a chart of the count when it ends')
    .example('$0 watch 1234 --origins', 'The same, with the call and stack that made each new descriptor')
    .epilogue('An exec is seen as a change of argv between two samples.\n\n' + ORIGINS_COST + '\n\nExit status: 0 when the watch ran (it reports, ' +
      'it does not judge); 2 when the process does not exist or cannot be read at the start, or on bad usage.');

/** What --origins costs the watched process, as measured (docs/watch.md: "What it costs while attached"). */
const ORIGINS_COST = '--origins stops every thread at each syscall\'s entry and exit while attached: a getppid() loop ran ' +
  '~100x slower (11,000-13,000 calls/s against 1.1-2.4 million alone; 170-500x on a heavily loaded 2-core machine; ' +
  'bench/watch-origins/measure.sh). A process that mostly waits (a server, a leak once a second) barely notices. The ' +
  'process is left as it was when the watch ends (Ctrl-C, SIGTERM, --count, its exit, or fdscan killed): every thread ' +
  'detached, no filter installed, no signal lost or added, blocking calls restarted. It is refused (exit 2) when the ' +
  'process is already traced (gdb, strace), under yama ptrace_scope, or for another user\'s process.';

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
  // Opened now: a path that cannot be written refuses before the first sample.
  const page = argv.html === undefined ? undefined : openPageFile(argv.html, '--html');
  const history = page ? new WatchHistory() : undefined;
  const startedAt = new Date();
  // Ctrl-C, `kill`, `timeout` and a closed terminal all end the watch with its summary (and page).
  const controller = new AbortController();
  let endedBy: NodeJS.Signals | undefined;
  const onInterrupt = (signal: NodeJS.Signals): void => {
    endedBy = signal;
    controller.abort();
  };
  const stopListening = onSignals(heeded(ENDING_SIGNALS), onInterrupt, { once: true });
  try {
    const summary = await watchProcess(pid, {
      intervalMs, count: argv.count, signal: controller.signal, origins: argv.origins,
      onSample: (s) => {
        history?.add(s);
        if (!argv.json) process.stdout.write(renderWatchSample(s));
      },
    });
    newLineAfterCtrlC(endedBy);
    process.stdout.write(argv.json ? `${JSON.stringify({ schema: 'fdscan/watch@1', ...summary })}\n` : renderWatchSummary(summary));
    if (page) writeWatchPage(page, summary, history!, { intervalMs, startedAt });
    process.exitCode = EXIT_OK;
  } finally {
    stopListening();
  }
}
