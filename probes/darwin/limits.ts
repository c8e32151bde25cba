/**
 * The descriptor limit on macOS: getrlimit(RLIMIT_NOFILE), which reads only the calling process's.
 * No call reads another process's limit (libproc has none), so theirs is unknown, never guessed.
 */
import { OsError, type DescriptorLimits } from '../../src/probe-kit/index.js';
import { errno } from './libproc.js';
import { RLIMIT_NOFILE, RLIM_INFINITY, getrlimit } from './libsystem.js';

/** fdscan's own soft and hard limits; undefined for any other process. */
export function darwinDescriptorLimits(pid: number): DescriptorLimits | undefined {
  if (pid !== process.pid) return undefined;
  const rlimit = Buffer.alloc(16);
  if (getrlimit(RLIMIT_NOFILE, rlimit) !== 0) throw new OsError('getrlimit(RLIMIT_NOFILE)', errno());
  return limitsFromRlimit(rlimit.readBigUInt64LE(0), rlimit.readBigUInt64LE(8));
}

/** struct rlimit's two values as DescriptorLimits: RLIM_INFINITY (or above) is null, unlimited. */
export function limitsFromRlimit(current: bigint, maximum: bigint): DescriptorLimits {
  const value = (v: bigint): number | null => (v >= RLIM_INFINITY ? null : Number(v));
  return { soft: value(current), hard: value(maximum) };
}
