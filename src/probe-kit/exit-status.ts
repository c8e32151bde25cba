/** Exit statuses as a shell tells them, and signal names. */
import { constants } from 'node:os';

/** Shell convention for how a process ended: its code, or 128+N for a death by signal N. */
export function shellStatus(code: number | null | undefined, signal: number | NodeJS.Signals | null | undefined): number {
  if (signal !== undefined && signal !== null) return 128 + (typeof signal === 'number' ? signal : constants.signals[signal]);
  return code ?? 0;
}

/** Name of signal number `n` (SIGTERM), or its number as text when Node does not know it. */
export function signalName(n: number): string {
  const entry = Object.entries(constants.signals).find(([, value]) => value === n);
  return entry ? entry[0] : String(n);
}
