/**
 * How many pidfds the tracer thread may hold: one per live process of the traced tree lets the
 * main thread forward signals without a reused pid (forwarding-registry.ts), but every one is a
 * descriptor of fdscan's own, and a big tree under a low limit must still leave room to read tables.
 */
import { readdirSync } from 'node:fs';
import { FdscanError } from '../../src/probe-kit/index.js';
import { linuxDescriptorLimits } from './limits.js';

/** Table reads need a few descriptors at a time (two directories and a file): keep 32 of the limit free. */
const TABLE_READ_RESERVE = 32;

/**
 * What the unwinders keep open while origins are traced: libdw's ELF files of up to 8 cached
 * processes (native-stack.ts) and python-frames.ts's /proc/PID/mem of each live Python process.
 */
const UNWINDER_RESERVE = 48;

/** The soft descriptor limit less what is open now and the reserves (the unwinders' with `origins`). */
export function pidfdBudget(origins: boolean): number {
  let soft = Number.POSITIVE_INFINITY;
  try {
    soft = linuxDescriptorLimits(process.pid).soft ?? Number.POSITIVE_INFINITY; // null: unlimited
  } catch (error) {
    if (!(error instanceof FdscanError)) throw error; // no limits file: no budget
  }
  let open = 0;
  try { open = readdirSync('/proc/self/fd').length; } catch { /* counted as none */ }
  return Math.max(0, soft - open - TABLE_READ_RESERVE - (origins ? UNWINDER_RESERVE : 0));
}
