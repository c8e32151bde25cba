/**
 * The descriptor limit of a Linux process: soft and hard RLIMIT_NOFILE from /proc/PID/limits,
 * which every user may read (mode 0444), so the limit of any visible process is known.
 */
import { NoSuchProcess, ParseError, osFailure, type DescriptorLimits } from '../../src/probe-kit/index.js';
import { readProcText } from './procfs.js';
import { readProcStat } from './process-info.js';

const OPEN_FILES = /^Max open files +(\d+|unlimited) +(\d+|unlimited) /m;

/** The `Max open files` line of /proc/PID/limits; `unlimited` (RLIM_INFINITY) is null. */
export function parseLimits(text: string): DescriptorLimits {
  const match = OPEN_FILES.exec(text);
  if (!match) throw new ParseError('/proc/PID/limits', `no 'Max open files' line in ${JSON.stringify(text.slice(0, 80))}`);
  const value = (field: string): number | null => (field === 'unlimited' ? null : Number(field));
  return { soft: value(match[1]!), hard: value(match[2]!) };
}

/** Soft and hard RLIMIT_NOFILE of `pid`; NoSuchProcess when it is gone. */
export function linuxDescriptorLimits(pid: number): DescriptorLimits {
  let text: string;
  try {
    text = readProcText(`/proc/${pid}/limits`);
  } catch (error) {
    throw osFailure(error, pid, `read /proc/${pid}/limits`, () => readProcStat(pid) === undefined);
  }
  // The kernel prints nothing once the process has released its signal state, while it is reaped.
  if (text === '') throw new NoSuchProcess(pid);
  return parseLimits(text);
}
