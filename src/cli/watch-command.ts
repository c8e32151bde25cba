/** `fdscan watch PID [--interval 1s] [--count N] [--json]`: sample a live process's descriptors; Ctrl-C prints the summary. */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { UsageError } from '../errors.js';
import { parseDuration, watchProcess, type WatchSample, type WatchSummary } from '../lifecycle/watch-process.js';
import { parsePid } from './audit-command.js';
import { EXIT_OK } from './exit-codes.js';

interface WatchArgs {
  pid?: string;
  interval: string;
  count?: number;
  json: boolean;
}

export const watchCommand = {
  command: 'watch <pid>',
  describe: 'Sample a live process: descriptors that appear and stay, growth of the count, execs of the same pid',
  builder: (yargs: Argv) =>
    yargs
      .positional('pid', { type: 'string', describe: 'The process to watch' })
      .option('interval', { type: 'string', default: '1s', describe: 'Time between samples: 1s, 200ms, 0.5s, 2m' })
      .option('count', { type: 'number', describe: 'Stop after N samples (default: until Ctrl-C or the process exits)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print only the summary, as JSON (schema fdscan/watch@1)' })
      .example('$0 watch 1234 --interval 5s', 'One line per sample; Ctrl-C prints the summary')
      .epilogue('An exec is seen as a change of argv between two samples.\n\nExit status: 0 when the watch ran (it reports, ' +
        'it does not judge); 2 when the process does not exist or cannot be read at the start, or on bad usage.'),
  handler: (argv: ArgumentsCamelCase<WatchArgs>) => runWatch(argv),
};

async function runWatch(argv: WatchArgs): Promise<void> {
  const pid = parsePid(argv.pid ?? '');
  const intervalMs = parseDuration(String(argv.interval));
  if (intervalMs === undefined) throw new UsageError(`--interval takes a duration such as 1s or 200ms, not '${argv.interval}'`);
  if (argv.count !== undefined && (!Number.isInteger(argv.count) || argv.count < 1)) throw new UsageError('--count takes a positive whole number');
  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  process.once('SIGINT', onInterrupt);
  try {
    const summary = await watchProcess(pid, {
      intervalMs, count: argv.count, signal: controller.signal,
      onSample: argv.json ? undefined : (s) => process.stdout.write(renderSample(s)),
    });
    process.stdout.write(argv.json ? `${JSON.stringify({ schema: 'fdscan/watch@1', ...summary })}\n` : renderSummary(summary));
    process.exitCode = EXIT_OK;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

function renderSample(s: WatchSample): string {
  const lines = [`sample ${s.index} +${(s.elapsedMs / 1000).toFixed(1)}s: ${s.count} open${s.index === 0 ? ` (${s.argv.join(' ')})` : ` (+${s.opened.length} -${s.closed.length})`}${s.exec ? `; exec: ${s.argv.join(' ')}` : ''}`];
  for (const d of s.opened) lines.push(`  + fd ${String(d.fd).padEnd(4)} ${d.type.padEnd(8)} ${d.target}`);
  for (const d of s.closed) lines.push(`  - fd ${String(d.fd).padEnd(4)} ${d.type.padEnd(8)} ${d.target}`);
  return `${lines.join('\n')}\n`;
}

function renderSummary(s: WatchSummary): string {
  const why = { count: 'sample count reached', interrupted: 'interrupted', exited: 'the process exited' }[s.ended];
  const lines = [`summary for pid ${s.pid} (${s.samples} samples, ${why}): count ${s.counts.join(' -> ')}; growth ${s.growth >= 0 ? '+' : ''}${s.growth}`];
  for (const e of s.execs) lines.push(`  exec at sample ${e.sample}: ${e.argv.join(' ')}`);
  if (s.stayed.length > 0) lines.push(`  ${s.stayed.length} descriptors appeared and stayed:`);
  for (const d of s.stayed) lines.push(`    fd ${String(d.fd).padEnd(4)} ${d.type.padEnd(8)} ${d.target}  (since sample ${d.firstSeen})`);
  return `${lines.join('\n')}\n`;
}
