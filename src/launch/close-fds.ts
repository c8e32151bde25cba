/**
 * `markAllCloseOnExec`: make every descriptor of this process non-inheritable except 0, 1, 2 and
 * the kept ones, so that a program started next receives nothing else. The platform does the
 * work (close_range or fcntl on Linux, SetHandleInformation on Windows).
 */
import type { CloseOnExecResult } from '../probe-kit/contract.js';
import { UnsupportedPlatform, UsageError } from '../errors.js';
import { probeFor } from '../platform/probe.js';

export type { CloseOnExecResult } from '../probe-kit/contract.js';

/** What to leave inheritable. */
export interface CloseOnExecOptions {
  /** Descriptors above 2 that children should still receive. */
  keep?: number[];
}

/** Mark every descriptor of this process close-on-exec but 0, 1, 2 and `keep`. */
export function markAllCloseOnExec(options: CloseOnExecOptions = {}): CloseOnExecResult {
  const keep = options.keep ?? [];
  if (!Array.isArray(keep)) throw new UsageError('markAllCloseOnExec: keep must be an array of descriptor numbers');
  for (const fd of keep) {
    if (!Number.isInteger(fd) || fd < 0) throw new UsageError(`not a descriptor number: ${fd}`);
  }
  const mark = probeFor().markAllNonInheritable;
  if (!mark) throw new UnsupportedPlatform(process.platform, 'close-on-exec remedy');
  return mark(keep);
}
