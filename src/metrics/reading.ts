/** The shapes of one metrics reading (collect.ts makes them, exposition.ts writes them out). */
import type { DescriptorLimits } from '../probe-kit/contract.js';

/** What was learnt of one process; a value that could not be read is absent. */
export interface ProcessReading {
  pid: number;
  command: string;
  user: string;
  open: number;
  limits?: DescriptorLimits;
  inheritable?: number;
  byType?: Record<string, number>;
}

/** The processes of one command and user, summed (`per: 'command'`). */
export interface CommandReading {
  command: string;
  user: string;
  processes: number;
  open: number;
  /** Sums over the processes whose value was read; absent when none was. */
  inheritable?: number;
  byType?: Record<string, number>;
  /** The highest open / soft limit among its processes; absent when no limit is known. */
  worstUsage?: number;
}

/** One reading: per process or per command, and what could not be read. */
export interface MetricsReading {
  per: 'pid' | 'command';
  processes: ProcessReading[];
  commands: CommandReading[];
  /** Selected processes of which some asked value could not be read (permission denied). */
  unreadable: number;
  /** Selected processes left unread because the deadline passed. */
  skipped: number;
  durationSeconds: number;
}
