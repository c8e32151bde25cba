/** Decoding of Linux wait(2) status words. */

/** What one wait status word says. */
export type WaitStatus =
  | { kind: 'exited'; code: number }
  | { kind: 'killed'; signal: number }
  /** `event` is the PTRACE_EVENT_* number (0 for a plain signal stop). */
  | { kind: 'stopped'; signal: number; event: number }
  /** Continued by SIGCONT (reported only to a waitpid with WCONTINUED). */
  | { kind: 'continued' };

/** Decode a status word as the W* macros of <sys/wait.h> do. */
export function decodeWaitStatus(word: number): WaitStatus {
  if (word === 0xffff) return { kind: 'continued' };
  const low = word & 0x7f;
  if (low === 0) return { kind: 'exited', code: (word >> 8) & 0xff };
  if ((word & 0xff) === 0x7f) return { kind: 'stopped', signal: (word >> 8) & 0xff, event: (word >>> 16) & 0xffff };
  return { kind: 'killed', signal: low };
}
