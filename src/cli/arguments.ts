/**
 * What the commands share about their arguments: the types yargs gives their handlers, derived
 * from each builder so they cannot drift from the option tables, and the parsers of values yargs
 * leaves as text (pids, descriptor lists, durations).
 */
import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import { givenCommand } from '../invocation.js';

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

/** A pid argument: a positive integer, or a clear usage error. */
export function parsePid(value: string | number): number {
  const text = String(value).trim();
  if (!/^\d+$/.test(text) || Number(text) <= 0 || Number(text) > 2 ** 31) {
    throw new UsageError(`not a process id: '${text}' (expected a positive number such as 1234)`);
  }
  return Number(text);
}

/** `--keep 3,5 --keep 7` as [3, 5, 7]. */
export function parseKeep(values: Array<string | number> | undefined): number[] {
  return (values ?? []).flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean).map((v) => {
    if (!/^\d+$/.test(v)) throw new UsageError(`--keep takes descriptor numbers such as 3,5, not '${v}'`);
    return Number(v);
  });
}

/** `1s`, `200ms`, `0.5s`, `2m`, or a bare number of seconds, as milliseconds; else a usage error naming `option`. */
export function parseDuration(value: string | number, option: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(String(value).trim());
  const amount = match ? Number(match[1]) : 0;
  const ms = match?.[2] === 'ms' ? amount : match?.[2] === 'm' ? amount * 60_000 : amount * 1000;
  if (!(ms > 0)) throw new UsageError(`${option} takes a duration such as 1s or 200ms, not '${value}'`);
  return ms;
}
