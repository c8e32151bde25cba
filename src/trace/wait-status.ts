/** Decoding of Linux wait(2) status words and errno numbers. */
import { constants } from 'node:os';

/** What one wait status word says. */
export type WaitStatus =
  | { kind: 'exited'; code: number }
  | { kind: 'killed'; signal: number }
  /** `event` is the PTRACE_EVENT_* number (0 for a plain signal stop). */
  | { kind: 'stopped'; signal: number; event: number };

/** Decode a status word as the W* macros of <sys/wait.h> do. */
export function decodeWaitStatus(word: number): WaitStatus {
  const low = word & 0x7f;
  if (low === 0) return { kind: 'exited', code: (word >> 8) & 0xff };
  if ((word & 0xff) === 0x7f) return { kind: 'stopped', signal: (word >> 8) & 0xff, event: (word >>> 16) & 0xffff };
  return { kind: 'killed', signal: low };
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, value]) => [value, name]));

/** `EPERM` for 1, and so on; the number as text when unknown. */
export function osErrorName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}
