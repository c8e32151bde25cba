/**
 * What fdscan was started with, byte for byte, so that a wrapped command gets exactly that:
 * Node's process.argv and process.env decode the bytes as UTF-8 and turn each invalid one into
 * U+FFFD, so `fdscan run -- cat $'\xff.txt'` would open a file of another name. The exact bytes
 * come from the probe (Linux: /proc/self/cmdline and environ) and, through the POSIX launcher,
 * from its record of the caller's environment (the launching shell rewrites some variables).
 */
import { CALLER_VARIABLE, callerEnvironment, callerState, environmentEntries } from './caller-state.js';
import { probeFor } from '../platform/probe.js';

/** The arguments main() was given and, where known, the bytes of each. */
let started: { args: readonly string[]; bytes?: readonly Buffer[] } = { args: [] };

/** Note fdscan's own arguments (process.argv after the script) and find their bytes. Call once, first thing. */
export function noteInvocation(args: readonly string[]): void {
  started = { args };
  // Only a wrapped command (after `--`) needs the bytes.
  if (!args.includes('--')) return;
  const argv = probeFor().startedWith?.().argv;
  if (argv === undefined || argv.length < args.length) return;
  // The script's arguments close the command line, after the runtime's path, options and script.
  const bytes = argv.slice(argv.length - args.length);
  // Called with other arguments than the process's own (a test, an embedding): those are the text.
  if (bytes.every((arg, i) => arg.toString() === args[i])) started = { args, bytes };
}

/** The wrapped command: the arguments after the first `--`, as given (yargs would turn `1e3` into 1000). */
export function givenCommand(): string[] | undefined {
  const end = started.args.indexOf('--');
  return end === -1 ? undefined : started.args.slice(end + 1);
}

/** `command` (the wrapped command as text) as the bytes fdscan received, and the environment as received. */
export function exactCommand(command: readonly string[]): { argv: Buffer[]; env: Buffer[] } {
  const end = started.args.indexOf('--');
  const given = end === -1 ? [] : started.args.slice(end + 1);
  const same = started.bytes !== undefined && given.length === command.length && given.every((arg, i) => arg === command[i]);
  return {
    argv: same ? started.bytes!.slice(end + 1) : command.map((arg) => Buffer.from(arg)),
    env: exactEnvironment(),
  };
}

/**
 * The environment fdscan's caller gave it: the launcher's record of it, else the process's own
 * (less the launcher's variable, with PWD as the launcher recorded it), else process.env as text
 * where the OS keeps no bytes.
 */
export function exactEnvironment(): Buffer[] {
  const recorded = callerEnvironment();
  if (recorded) return [...recorded];
  const own = probeFor().startedWith?.().environment;
  if (own === undefined) return environmentEntries(process.env);
  const { givenPwd } = callerState();
  const named = (entry: Buffer, name: string): boolean => entry.subarray(0, name.length + 1).equals(Buffer.from(`${name}=`));
  const kept = own.filter((entry) => !named(entry, CALLER_VARIABLE) && (givenPwd === undefined || !named(entry, 'PWD')));
  return typeof givenPwd === 'string' ? [...kept, Buffer.from(`PWD=${givenPwd}`)] : kept;
}
