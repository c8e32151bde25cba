/** `fdscan metrics`: one OpenMetrics reading, for node_exporter's textfile collector or a cron job. */
import type { Argv, CommandModule } from 'yargs';
import { collectMetrics } from '../metrics/collect.js';
import { renderExposition, type ExpositionFormat } from '../metrics/exposition.js';
import { replaceReportFile } from '../files/report-file.js';
import type { ArgsOf } from './arguments.js';
import { EXIT_OK } from '../exit-codes.js';
import { metricsOptionsFrom, READING_OPTIONS } from './metrics-options.js';
import { ALL_OPTION, SELECTION_OPTIONS } from './selection-options.js';

const metricsBuilder = (yargs: Argv) =>
  yargs
    .positional('pid', { describe: 'Only these processes (default: every process)', type: 'string', array: true })
    .options({
      ...ALL_OPTION,
      ...SELECTION_OPTIONS,
      ...READING_OPTIONS,
      output: { alias: 'o', type: 'string', requiresArg: true, describe: 'Write FILE instead of stdout: a regular file is replaced whole (a temporary file in the same folder, renamed over it); a FIFO or device is written into' },
      format: { type: 'string', choices: ['openmetrics', 'prometheus'] as const, default: 'openmetrics', describe: 'OpenMetrics 1.0 text (ends with # EOF), or the Prometheus text format 0.0.4' },
    })
    .example('$0 metrics -o /var/lib/node_exporter/textfile/fdscan.prom', 'For node_exporter --collector.textfile.directory')
    .example('$0 metrics -c "nginx|postgres" --by-type', 'Two services, with counts per descriptor type')
    .epilogue('Families: fdscan_process_open_fds, fdscan_process_max_fds (soft limit), fdscan_process_inheritable_fds, ' +
      'fdscan_process_open_fds_by_type (--by-type), labelled pid, command, user; with --per command, fdscan_command_* sums per ' +
      'command and user; fdscan_scrape_duration_seconds, fdscan_processes_unreadable, fdscan_processes_skipped.\n\n' +
      'Processes this user may not read are counted in fdscan_processes_unreadable, never fatal. Kernel threads are ' +
      'left out (they have no descriptor table).\n\n' +
      'Exit status: 0 when the reading ran; 2 on bad usage or when FILE cannot be written.');

type MetricsArgs = ArgsOf<typeof metricsBuilder>;

export const metricsCommand: CommandModule<{}, MetricsArgs> = {
  command: 'metrics [pid..]',
  describe: 'Print descriptor metrics of the processes once, in OpenMetrics text (for a textfile collector)',
  builder: metricsBuilder,
  handler: (argv) => runMetrics(argv),
};

async function runMetrics(argv: MetricsArgs): Promise<void> {
  const format = argv.format as ExpositionFormat;
  const reading = collectMetrics(metricsOptionsFrom(argv));
  if (argv.output !== undefined) replaceReportFile(argv.output, '-o', renderExposition(reading, format));
  else process.stdout.write(renderExposition(reading, format, { terminal: process.stdout.isTTY === true }));
  process.exitCode = EXIT_OK;
}
