/**
 * What a process id is, for every command and the library alike: a pid_t, an integer from 1 to
 * 2^31-1; anything else is a UsageError with one message.
 */
import { UsageError } from '../errors.js';

/** The largest pid_t (a signed 32-bit integer). */
export const MAX_PID = 2 ** 31 - 1;

const isPid = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= MAX_PID;

function notAPid(shown: string): UsageError {
  return new UsageError(`not a process id: '${shown}' (expected a positive number such as 1234)`);
}

/** A process id as the library takes it: a number from 1 to MAX_PID, else UsageError. */
export function checkPid(pid: unknown): number {
  if (typeof pid === 'number' && isPid(pid)) return pid;
  throw notAPid(String(pid));
}

/** A pid as a command line gives it (its digits; yargs may have made a number of them), else UsageError. */
export function parsePid(value: string | number): number {
  const text = String(value).trim();
  if (/^\d+$/.test(text) && isPid(Number(text))) return Number(text);
  throw notAPid(text);
}
