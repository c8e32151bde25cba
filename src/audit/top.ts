/**
 * `topProcesses`: processes ranked by how close they are to their descriptor limit. Counting and
 * limits are cheap (the size of /proc/PID/fd and /proc/PID/limits on Linux, readable by every
 * user); inheritability costs a read per descriptor, so it is read only for the processes
 * returned, or for all of them when they are ranked by it.
 */
import type { DescriptorLimits, ProcessInfo } from '../probe-kit/contract.js';
import { AccessDenied, FdscanError, NoSuchProcess, UsageError } from '../errors.js';
import { probeFor } from '../platform/probe.js';
import { selectProcesses, userLabel, type Selection } from './selection.js';
import { tallyDescriptors } from './tally.js';

export type TopSort = 'usage' | 'count' | 'inheritable';
export const TOP_SORTS: readonly TopSort[] = ['usage', 'count', 'inheritable'];

export interface TopOptions extends Selection {
  /** `usage` (open / soft limit, the default), `count` (open) or `inheritable`. */
  sort?: TopSort;
  /** How many processes to return; undefined or 0: all of them. */
  limit?: number;
  /** Read the inheritable count of the processes returned (default true). */
  inheritable?: boolean;
  /** An earlier result: each process returned then gets `growth`, its open count's change since. */
  previous?: TopResult;
}

/** One ranked process: the rows of `fdscan top` and of its JSON (`fdscan/top@1`). */
export interface TopProcess {
  pid: number;
  command: string;
  /** User name, or the uid as text when the user database has no name for it. */
  user?: string;
  uid?: number;
  open: number;
  /** Absent when not read or not readable (another user's process, as non-root). */
  inheritable?: number;
  /** Absent where the platform cannot tell. */
  limits?: DescriptorLimits;
  /** open / soft limit (0.9 is 90%); 0 under an unlimited limit; absent when the limit is unknown. */
  usage?: number;
  /** With `previous`: open now minus open then; absent for a process new since (or a reused pid). */
  growth?: number;
}

export interface TopResult {
  processes: TopProcess[];
  /** Processes counted (the ranking was made among these). */
  counted: number;
  /** Processes whose descriptors this user may not count. */
  unreadable: number;
  /** Every process counted, returned or not: what the next reading's `growth` compares with. */
  counts: Map<number, { command: string; open: number }>;
}

/** The selected processes (default: every process) ranked by `sort`, best first. */
export function topProcesses(options: TopOptions = {}): TopResult {
  const sort = options.sort ?? 'usage';
  if (!TOP_SORTS.includes(sort)) throw new UsageError(`sort by one of ${TOP_SORTS.join(', ')}, not '${String(sort)}'`);
  if (options.limit !== undefined && (!Number.isInteger(options.limit) || options.limit < 0)) {
    throw new UsageError(`the number of processes must be a whole number, not ${options.limit}`);
  }
  const probe = probeFor();
  const selected = selectProcesses(options);
  const result: TopResult = { processes: [], counted: 0, unreadable: selected.unreadable, counts: new Map() };
  for (const pid of selected.pids) {
    try {
      result.processes.push(countProcess(pid, selected.info.get(pid) ?? probe.processInfo(pid)));
    } catch (error) {
      if (error instanceof AccessDenied) result.unreadable++;
      else if (!(error instanceof NoSuchProcess)) throw error;
    }
  }
  result.counted = result.processes.length;
  const all = result.processes;
  const readInheritable = options.inheritable !== false && probe.capabilities.inheritable;
  if (sort === 'inheritable') all.forEach(addInheritable);
  all.sort(RANKINGS[sort]);
  if (options.limit) result.processes = all.slice(0, options.limit);
  if (sort !== 'inheritable' && readInheritable) {
    result.processes.forEach(addInheritable);
    // Those shown were re-counted with their inheritability: ranked again on those counts.
    result.processes.sort(RANKINGS[sort]);
  }
  for (const p of all) {
    result.counts.set(p.pid, { command: p.command, open: p.open });
    const then = options.previous?.counts.get(p.pid);
    if (then && then.command === p.command) p.growth = p.open - then.open;
  }
  return result;
}

function countProcess(pid: number, info: ProcessInfo): TopProcess {
  const probe = probeFor();
  const open = probe.countDescriptors(pid);
  const entry: TopProcess = { pid, command: info.command, open };
  const user = userLabel(info.uid);
  if (user !== undefined) entry.user = user;
  if (info.uid !== undefined) entry.uid = info.uid;
  const limits = probe.descriptorLimits?.(pid);
  if (limits) {
    entry.limits = limits;
    entry.usage = usageOf(open, limits);
  }
  return entry;
}

/** open / soft; 0 under an unlimited soft limit (a limit of 0 counts as 1: anything held is over it). */
export function usageOf(open: number, limits: DescriptorLimits): number {
  return limits.soft === null ? 0 : open / Math.max(limits.soft, 1);
}

/**
 * The inheritable count, when this user may read it, with the open count of the same reading (the
 * process may have opened or closed some since it was counted); a process gone meanwhile keeps its row.
 */
function addInheritable(entry: TopProcess): void {
  try {
    const tally = tallyDescriptors(entry.pid, { inheritable: true });
    if (tally.inheritable === undefined) return;
    entry.inheritable = tally.inheritable;
    entry.open = tally.open;
    if (entry.limits) entry.usage = usageOf(entry.open, entry.limits);
  } catch (error) {
    if (!(error instanceof FdscanError)) throw error;
  }
}

const byPid = (a: TopProcess, b: TopProcess): number => a.pid - b.pid;
const byOpen = (a: TopProcess, b: TopProcess): number => b.open - a.open || byPid(a, b);
/** Descending; an unknown value ranks below every known one. */
const descending = (key: (p: TopProcess) => number | undefined) => (a: TopProcess, b: TopProcess): number => {
  const x = key(a) ?? -1;
  const y = key(b) ?? -1;
  return y - x || byOpen(a, b);
};

const RANKINGS: Record<TopSort, (a: TopProcess, b: TopProcess) => number> = {
  usage: descending((p) => p.usage),
  count: byOpen,
  inheritable: descending((p) => p.inheritable),
};
