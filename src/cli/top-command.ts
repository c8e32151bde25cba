/** `fdscan top`: processes ranked by how close they are to their descriptor limit, once or every --interval. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Argv, CommandModule } from 'yargs';
import { heeded } from '../launch/caller-state.js';
import { ENDING_SIGNALS, onSignals } from '../launch/signals.js';
import { newLineAfterCtrlC } from './ctrl-c.js';
import { UsageError } from '../errors.js';
import { renderTop, topDocument } from '../render/top-text.js';
import { openPageFile } from '../render/html/page.js';
import { writeTopPage } from '../render/html/top-page.js';
import { styleFor } from '../render/style.js';
import { TOP_SORTS, topProcesses, type TopResult, type TopSort } from '../audit/top.js';
import { parseDuration, type ArgsOf } from './arguments.js';
import { EXIT_OK } from '../exit-codes.js';
import { ALL_OPTION, SELECTION_OPTIONS, selectionFrom } from './selection-options.js';

const DEFAULT_LIMIT = 20;

const topBuilder = (yargs: Argv) =>
  yargs
    .positional('pid', { describe: 'Only these processes (default: every process)', type: 'string', array: true })
    .options({
      ...ALL_OPTION,
      ...SELECTION_OPTIONS,
      limit: { alias: 'n', type: 'number', requiresArg: true, describe: `Show the first N processes (default ${DEFAULT_LIMIT}, or what fits a terminal with --interval; 0: all)` },
      sort: { type: 'string', choices: TOP_SORTS, default: 'usage', describe: 'Rank by usage of the soft limit (open / soft), by open descriptors, or by inheritable ones (reads every process\'s descriptors)' },
      interval: { type: 'string', requiresArg: true, describe: 'Read again every D (1s, 500ms, 2m) until Ctrl-C, with each process\'s growth since the reading before' },
      count: { type: 'number', requiresArg: true, describe: 'With --interval: stop after N readings' },
      json: { type: 'boolean', default: false, describe: 'Print JSON (schema fdscan/top@1; with --interval one document per line)' },
      html: { type: 'string', requiresArg: true, describe: 'Also write a self-contained HTML page to FILE: the ranking as a table and its first 20 as a bar chart (with --interval, the last reading, written when top ends)' },
    })
    .example('$0 top', 'The 20 processes closest to their descriptor limit')
    .example('$0 top -c nginx --sort count', 'nginx processes by open descriptors')
    .example('$0 top --interval 5s', 'Refresh every 5 s in place, with the growth per interval')
    .example('$0 top -n 50 --html top.html', 'The first 50 as a page: a table and a bar chart')
    .epilogue('Counting is cheap: the open count and the limit of every process (on Linux 6.2+ any user may read both); ' +
      'inheritability is read only for the processes shown, and only where this user may read their descriptors (else ?).\n\n' +
      'Exit status: 0 when the reading ran; 2 on bad usage.');

type TopArgs = ArgsOf<typeof topBuilder>;

export const topCommand: CommandModule<{}, TopArgs> = {
  command: 'top [pid..]',
  describe: 'Processes ranked by usage of their descriptor limit: open, soft limit, usage, inheritable',
  builder: topBuilder,
  handler: (argv) => runTop(argv),
};

async function runTop(argv: TopArgs): Promise<void> {
  const sort = argv.sort as TopSort;
  if (argv.limit !== undefined && (!Number.isInteger(argv.limit) || argv.limit < 0)) throw new UsageError('--limit (-n) takes a whole number (0: all)');
  if (argv.interval === undefined && argv.count !== undefined) throw new UsageError('--count goes with --interval');
  if (argv.count !== undefined && (!Number.isInteger(argv.count) || argv.count < 1)) throw new UsageError('--count takes a positive whole number');
  const intervalMs = argv.interval === undefined ? undefined : parseDuration(argv.interval, '--interval');
  const style = styleFor(process.stdout);
  const inPlace = intervalMs !== undefined && !argv.json && process.stdout.isTTY === true;
  const rows = process.stdout.rows ?? DEFAULT_LIMIT + 3;
  const fits = Math.max(1, rows - 3);
  const options = { ...selectionFrom(argv), sort, limit: argv.limit ?? (inPlace ? fits : DEFAULT_LIMIT) };
  // Opened before the first reading: a path that cannot be written refuses at once.
  const page = argv.html === undefined ? undefined : openPageFile(argv.html, '--html');
  const writePage = (result: TopResult | undefined): void => {
    if (page && result) writeTopPage(page, result, sort, { at: new Date(), interval: intervalMs !== undefined });
  };
  const show = (result: TopResult): void => {
    if (argv.json) process.stdout.write(`${JSON.stringify(topDocument(result))}\n`);
    // In place: home, clear, then the table; elsewhere readings follow one another.
    else if (inPlace) process.stdout.write(`\x1b[H\x1b[J${firstLines(renderTop(result, sort, style, { interval: true, now: new Date() }), rows - 1)}`);
    else process.stdout.write(renderTop(result, sort, style, { interval: intervalMs !== undefined, now: intervalMs !== undefined ? new Date() : undefined }));
  };
  if (intervalMs === undefined) {
    const result = topProcesses(options);
    show(result);
    writePage(result);
    process.exitCode = EXIT_OK;
    return;
  }
  const controller = new AbortController();
  let endedBy: NodeJS.Signals | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    endedBy = signal;
    controller.abort();
  };
  const stopListening = onSignals(heeded(ENDING_SIGNALS), stop, { once: true });
  try {
    let previous: TopResult | undefined;
    for (let n = 0; argv.count === undefined || n < argv.count; n++) {
      if (n > 0) {
        try {
          await sleep(intervalMs, undefined, { signal: controller.signal });
        } catch {
          break; // interrupted
        }
      }
      if (controller.signal.aborted) break;
      previous = topProcesses({ ...options, previous });
      if (!inPlace && !argv.json && n > 0) process.stdout.write('\n');
      show(previous);
    }
    newLineAfterCtrlC(endedBy);
    writePage(previous);
    process.exitCode = EXIT_OK;
  } finally {
    stopListening();
  }
}

/**
 * The first `count` lines of `text`: redrawn in place, the table must not scroll the terminal (a
 * narrow one wraps the header onto more lines, and says which columns it left out).
 */
function firstLines(text: string, count: number): string {
  const lines = text.split('\n');
  return lines.length - 1 <= count ? text : `${lines.slice(0, Math.max(1, count)).join('\n')}\n`;
}
