/**
 * The common audit invocations parsed without yargs: `fdscan [PID...] [--json] [--all|-a]
 * [--inheritable|-i] [--peers|--no-peers]`. Loading yargs costs ~100 ms of start-up (its ESM
 * modules and cliui's string-width), more than reading 1,000 descriptors. Anything else (help,
 * version, --type, other commands, unknown or combined flags) returns undefined and goes to yargs,
 * which stays the one place that defines and documents the flags; a test checks both agree.
 */
import type { AuditArgs } from './audit-command.js';

type BooleanFlag = 'all' | 'json' | 'inheritable' | 'peers';

const FLAGS = new Map<string, [BooleanFlag, boolean]>([
  ['--json', ['json', true]],
  ['--all', ['all', true]],
  ['-a', ['all', true]],
  ['--inheritable', ['inheritable', true]],
  ['-i', ['inheritable', true]],
  ['--peers', ['peers', true]],
  ['--no-peers', ['peers', false]],
]);

/** The audit arguments when `args` is one of the simple forms, else undefined (use yargs). */
export function simpleAuditArgs(args: string[]): AuditArgs | undefined {
  const parsed: AuditArgs = { all: false, json: false, inheritable: false, peers: true };
  const pids: string[] = [];
  for (const arg of args) {
    const flag = FLAGS.get(arg);
    if (flag) parsed[flag[0]] = flag[1];
    else if (/^\d+$/.test(arg)) pids.push(arg);
    else return undefined;
  }
  if (pids.length > 0) parsed.pid = pids;
  return parsed;
}
