/** The selection flags of the audit, `top`, `metrics` and `serve`: one table, one reading of it. */
import type { Options } from 'yargs';
import type { Selection } from '../audit/selection.js';
import { parsePid } from '../audit/pid.js';

export const SELECTION_OPTIONS = {
  command: { alias: 'c', type: 'string', requiresArg: true, describe: 'Only processes whose command name or argv[0] matches this regular expression' },
  user: { alias: 'u', type: 'string', requiresArg: true, describe: 'Only processes of this user (name or uid)' },
} as const satisfies Record<string, Options>;

/** The `--all` flag of the commands whose default is every process. */
export const ALL_OPTION = {
  all: { alias: 'a', type: 'boolean', default: false, describe: 'Every process this user can see (the default when no pid is given)' },
} as const satisfies Record<string, Options>;

/** The selection's arguments as yargs gives them (arguments.ts refuses a repeated flag). */
export interface SelectionArgs {
  pid?: Array<string | number>;
  all?: boolean;
  command?: string;
  user?: string;
}

/** The Selection the command line asks for. */
export function selectionFrom(argv: SelectionArgs): Selection {
  return {
    pids: argv.pid && argv.pid.length > 0 ? argv.pid.map(parsePid) : undefined,
    all: argv.all,
    command: argv.command,
    user: argv.user,
  };
}
