/**
 * Blocking stdio while a wrapped command runs: where the platform's runtime made this process's
 * 0, 1 or 2 non-blocking (a flag a child shares), the probe clears it and puts it back afterwards.
 */
import { probeFor } from '../platform/probe.js';

/** Run `body` with O_NONBLOCK cleared on 0, 1 and 2; restore those that had it, even on failure. */
export async function withBlockingStdio<T>(body: () => Promise<T>): Promise<T> {
  const restore = probeFor().blockingStdio?.();
  try {
    return await body();
  } finally {
    restore?.();
  }
}
