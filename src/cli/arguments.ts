/**
 * What the commands share about their arguments: the types yargs gives their handlers, derived
 * from each builder so they cannot drift from the option tables, and the parsers of values yargs
 * leaves as text (pids, descriptor lists, durations).
 */
import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import { givenCommand } from '../launch/invocation.js';
import { WRAPPING_COMMANDS } from './wrapping.js';

/** Keys whose type admits undefined become optional: an option without a default may be absent. */
type OptionalWhenUndefined<T> =
  & { [K in keyof T as undefined extends T[K] ? K : never]?: T[K] }
  & { [K in keyof T as undefined extends T[K] ? never : K]: T[K] };

/** The arguments a command's builder declares: `ArgsOf<typeof builder>`. */
export type ArgsOf<B extends (yargs: Argv) => Argv<unknown>> = ReturnType<B> extends Argv<infer T> ? OptionalWhenUndefined<T> : never;

/** With yargs' `populate--`: everything after `--`, the command fdscan wraps. */
export interface PassThrough {
  '--'?: Array<string | number>;
}

/** The wrapped command, `[]` when there is none. */
export function wrappedCommand(argv: PassThrough): string[] {
  // As given: yargs turns arguments that look like numbers into numbers (`1e3` became 1000).
  const given = givenCommand();
  return given !== undefined && given.length === (argv['--'] ?? []).length ? given : (argv['--'] ?? []).map(String);
}

/** `--keep 3,5 --keep 7` as [3, 5, 7]. */
export function parseKeep(values: Array<string | number> | undefined): number[] {
  return (values ?? []).flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean).map((v) => {
    if (!/^\d+$/.test(v)) throw new UsageError(`--keep takes descriptor numbers such as 3,5, not '${v}'`);
    return Number(v);
  });
}

/**
 * The longest duration Node's timers hold: 2^31-1 ms (about 24.8 days). A longer setTimeout fires
 * after 1 ms instead, so `watch --interval 2147484s` had sampled every millisecond.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** `1s`, `200ms`, `0.5s`, `2m`, or a bare number of seconds, as milliseconds; else a usage error naming `option`. */
export function parseDuration(value: string | number, option: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(String(value).trim());
  const amount = match ? Number(match[1]) : 0;
  const ms = match?.[2] === 'ms' ? amount : match?.[2] === 'm' ? amount * 60_000 : amount * 1000;
  if (!(ms > 0)) throw new UsageError(`${option} takes a duration such as 1s or 200ms, not '${value}'`);
  if (ms > MAX_DURATION_MS) throw new UsageError(`${option} ${value} is too long: at most ${MAX_DURATION_MS}ms (about 24 days)`);
  return ms;
}

/** The positional operands (pids): parsePid judges them, not the option rule below. */
const OPERANDS = new Set(['pid', 'pids']);

/** The options whose empty value means something: `lifecycle --input ''` writes nothing to CMD's stdin. */
const EMPTY_MEANS_SOMETHING = new Set(['input']);

/**
 * The options that may be given again without being yargs arrays (an array option would swallow
 * the pids after it): `-t SOCK -t REG` is `-t SOCK,REG`.
 */
const REPEATABLE = new Set(['type']);

/** What a repeat of these options should have been instead. */
const REPEAT_HINTS: Record<string, string> = {
  command: "use one expression with | for several: -c 'nginx|php-fpm'",
  user: 'fdscan selects one user at a time',
};

/** What yargs' check() is told of the running command's options. */
export interface DeclaredOptions {
  string: string[];
  number: string[];
  array: string[];
  alias: Record<string, string[]>;
}

/**
 * The rule every option value of every command meets, checked once after yargs has parsed (main.ts
 * registers it for all commands): an option not declared `array` is given at most once (yargs would
 * hand the command an array where it expects one path), no value is empty ('' names no file, no
 * user, no pattern), and the command after `--` has a name.
 */
export function checkOptionValues(argv: Record<string, unknown>, options: DeclaredOptions): true {
  const aliases = new Set(Object.values(options.alias).flat());
  for (const name of new Set([...options.string, ...options.number])) {
    if (aliases.has(name) || OPERANDS.has(name) || argv[name] === undefined) continue;
    const flag = [name, ...(options.alias[name] ?? [])].map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).join('/');
    const values = [argv[name]].flat();
    if (values.length > 1 && !options.array.includes(name) && !REPEATABLE.has(name)) {
      throw new UsageError(`${flag} was given ${values.length} times: ${REPEAT_HINTS[name] ?? 'it takes one value'}`);
    }
    if (!EMPTY_MEANS_SOMETHING.has(name) && values.some((v) => v === '')) throw new UsageError(`${flag} needs a value, not ''`);
  }
  const command = argv['--'];
  if (Array.isArray(command) && command.length > 0 && String(command[0]) === '') throw new UsageError("the command after -- is empty: '' names no program");
  return true;
}

/**
 * What follows `--` for a command that wraps no CMD is more operands, as POSIX utilities read it:
 * `fdscan -- 5` audits pid 5 as `fdscan 5` does (it had audited the shell), `top -- 5` shows pid 5.
 * A yargs middleware: it runs before the commands' handlers and before validation.
 */
export function operandsAfterDashes(argv: Record<string, unknown> & PassThrough & { _: Array<string | number> }): void {
  const operands = argv['--'];
  if (operands === undefined || WRAPPING_COMMANDS.includes(String(argv._[0]))) return;
  delete argv['--'];
  if (operands.length > 0) argv.pid = [...[argv.pid ?? []].flat(), ...operands.map(String)];
}
