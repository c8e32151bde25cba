/**
 * The common audit invocations parsed without yargs: `fdscan [PID...]` with any of the audit's
 * boolean flags (`--json`, `--all`/`-a`, `--inheritable`/`-i`, `--no-peers`, ...) and one
 * `--fields LIST` (or `--fields=LIST`), which exists to make `--all` faster. Loading yargs
 * costs ~100 ms of start-up (its ESM modules and cliui's string-width), more than reading 1,000
 * descriptors. The flags, their aliases, `--no-` forms and defaults come from AUDIT_OPTIONS, the
 * table the yargs builder reads. Anything else (help, version, --type, other commands, unknown or
 * combined flags, `--flag=value`) returns undefined and goes to yargs; a test checks both agree.
 */
import type { Options } from 'yargs';
import { AUDIT_OPTIONS, type AuditArgs } from './audit-command.js';

type Table = typeof AUDIT_OPTIONS;
type BooleanFlag = { [K in keyof Table]: Table[K]['type'] extends 'boolean' ? K : never }[keyof Table];

const BOOLEANS = (Object.keys(AUDIT_OPTIONS) as Array<keyof Table>)
  .filter((name): name is BooleanFlag => AUDIT_OPTIONS[name].type === 'boolean');

/** Each spelling yargs accepts for a boolean flag, with the value it sets. */
const FLAGS = new Map<string, [BooleanFlag, boolean]>(BOOLEANS.flatMap((name) => {
  const spellings: Array<[string, [BooleanFlag, boolean]]> = [[`--${name}`, [name, true]], [`--no-${name}`, [name, false]]];
  for (const alias of [(AUDIT_OPTIONS[name] as Options).alias ?? []].flat()) {
    spellings.push([alias.length === 1 ? `-${alias}` : `--${alias}`, [name, true]]);
  }
  return spellings;
}));

/** The audit arguments when `args` is one of the simple forms, else undefined (use yargs). */
export function simpleAuditArgs(args: string[]): AuditArgs | undefined {
  const parsed = Object.fromEntries(BOOLEANS.map((name) => [name, AUDIT_OPTIONS[name].default])) as Record<BooleanFlag, boolean>;
  const pids: string[] = [];
  let fields: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const flag = FLAGS.get(arg);
    if (flag) parsed[flag[0]] = flag[1];
    else if (/^\d+$/.test(arg)) pids.push(arg);
    else if ((arg === '--fields' || arg.startsWith('--fields=')) && fields === undefined) {
      // A value that looks like a flag (or none) is yargs' to refuse; a repeat is yargs' to gather.
      fields = arg === '--fields' ? args[++i] : arg.slice('--fields='.length);
      if (fields === undefined || fields === '' || fields.startsWith('-')) return undefined;
    } else return undefined;
  }
  const withFields = fields === undefined ? parsed : { ...parsed, fields };
  return pids.length > 0 ? { ...withFields, pid: pids } : withFields;
}
