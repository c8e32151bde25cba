/** The selection flags of the audit, `top`, `metrics` and `serve`: one table, one reading of it. */
import type { Options } from 'yargs';
import { UsageError } from '../errors.js';
import type { Selection } from '../selection.js';
import { parsePid } from './arguments.js';

export const SELECTION_OPTIONS = {
  command: { alias: 'c', type: 'string', requiresArg: true, describe: 'Only processes whose command name or argv[0] matches this regular expression' },
  user: { alias: 'u', type: 'string', requiresArg: true, describe: 'Only processes of this user (name or uid)' },
} as const satisfies Record<string, Options>;

/** The `--all` flag of the commands whose default is every process. */
export const ALL_OPTION = {
  all: { alias: 'a', type: 'boolean', default: false, describe: 'Every process this user can see (the default when no pid is given)' },
} as const satisfies Record<string, Options>;

/** The selection's arguments as yargs gives them (a repeated flag arrives as an array). */
export interface SelectionArgs {
  pid?: Array<string | number>;
  all?: boolean;
  command?: string | string[];
  user?: string | string[];
}

/** The Selection the command line asks for; a flag given twice is a usage error. */
export function selectionFrom(argv: SelectionArgs): Selection {
  return {
    pids: argv.pid && argv.pid.length > 0 ? argv.pid.map(parsePid) : undefined,
    all: argv.all,
    command: once(argv.command, '--command', "use one expression with | for several: -c 'nginx|php-fpm'"),
    user: once(argv.user, '--user', 'fdscan selects one user at a time'),
  };
}

function once(value: string | string[] | undefined, flag: string, hint: string): string | undefined {
  if (!Array.isArray(value)) return value;
  if (value.length > 1) throw new UsageError(`${flag} was given ${value.length} times: ${hint}`);
  return value[0];
}
