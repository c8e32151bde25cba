/** The flags `metrics` and `serve` share: what to read of the selected processes, and how to label it. */
import type { Options } from 'yargs';
import type { MetricsOptions } from '../metrics/collect.js';
import { selectionFrom, type SelectionArgs } from './selection-options.js';

export const READING_OPTIONS = {
  'by-type': { type: 'boolean', default: false, describe: 'Add fdscan_process_open_fds_by_type{type} (a read per descriptor)' },
  inheritable: { type: 'boolean', default: true, describe: 'Count inheritable descriptors (a read per descriptor; --no-inheritable skips it)' },
  per: { type: 'string', choices: ['pid', 'command'] as const, default: 'pid', describe: 'One series per process, or per command and user (sums; fewer series)' },
} as const satisfies Record<string, Options>;

interface ReadingArgs extends SelectionArgs {
  'by-type': boolean;
  inheritable: boolean;
  per: string;
}

/** MetricsOptions from the command line. */
export function metricsOptionsFrom(argv: ReadingArgs): MetricsOptions {
  return { ...selectionFrom(argv), byType: argv['by-type'], inheritable: argv.inheritable, per: argv.per === 'command' ? 'command' : 'pid' };
}
