/**
 * Counts of a Linux process's descriptors for `top` and metrics, reading only what they need:
 * fdinfo's flags for inheritability; the link, and a stat for paths, for the type. Targets,
 * sockets and peers are never resolved, and rows are not checked to describe one object: a
 * descriptor reused mid-read is counted once all the same.
 */
import {
  NoSuchProcess, TimeLimitExceeded, errnoOf, linkShape, osFailure, type DescriptorTally, type TallyRequest,
} from '../../src/probe-kit/index.js';
import { typeFromMode } from '../file-mode.js';
import { anonType } from './descriptors.js';
import { openDescriptorFiles, type DescriptorFiles } from './descriptor-files.js';
import { inheritable as inheritableFlags } from './open-flags.js';
import { readProcStat } from './process-info.js';

/** How many descriptors are read between two looks at the clock. */
const CLOCK_EVERY = 64;

/** Open, inheritable and per-type counts of `pid`; errors as for an audit. */
export function tallyLinuxDescriptors(pid: number, request: TallyRequest): DescriptorTally {
  const before = readProcStat(pid);
  if (!before) throw new NoSuchProcess(pid);
  const gone = (): boolean => {
    try {
      const now = readProcStat(pid);
      return !now || now.startTime !== before.startTime;
    } catch {
      return false;
    }
  };
  let files: DescriptorFiles;
  try {
    files = openDescriptorFiles(pid, { fdinfo: request.inheritable === true });
  } catch (error) {
    // A zombie holds no descriptors.
    if (before.state === 'Z' && errnoOf(error) === 'ENOENT' && !gone()) return empty(request);
    throw osFailure(error, pid, `open /proc/${pid}/fd`, gone, `permission denied; root or the process's own user can read it`);
  }
  let tally: DescriptorTally;
  try {
    tally = count(files, request);
  } catch (error) {
    throw osFailure(error, pid, `read /proc/${pid}/fd`, gone);
  } finally {
    files.close();
  }
  if (gone()) throw new NoSuchProcess(pid);
  return tally;
}

function empty(request: TallyRequest): DescriptorTally {
  return { open: 0, ...(request.inheritable ? { inheritable: 0 } : {}), ...(request.types ? { byType: {} } : {}) };
}

function count(files: DescriptorFiles, request: TallyRequest): DescriptorTally {
  const tally = empty(request);
  const list = files.list();
  for (let i = 0; i < list.length; i++) {
    if (request.deadline !== undefined && i % CLOCK_EVERY === 0 && Date.now() > request.deadline) {
      throw new TimeLimitExceeded(`counting the descriptors of pid ${files.pid}`);
    }
    const fd = list[i]!;
    try {
      const inheritable = request.inheritable === true && inheritableFlags(files.fdinfo(fd).flags);
      const type = request.types ? typeOf(files, fd) : '';
      if (type === undefined) continue;
      tally.open++;
      if (inheritable) tally.inheritable!++;
      if (type) tally.byType![type] = (tally.byType![type] ?? 0) + 1;
    } catch (error) {
      const code = errnoOf(error);
      if (code === 'ENOENT' || code === 'ESRCH') continue; // closed meanwhile
      throw error;
    }
  }
  return tally;
}

/** The type as the audit names it; undefined when the descriptor closed meanwhile. */
function typeOf(files: DescriptorFiles, fd: number): string | undefined {
  const link = files.linkView(fd);
  const shape = linkShape(link);
  if (shape.kind === 'pipe') return 'FIFO';
  if (shape.kind === 'socket') return 'SOCK';
  if (shape.kind === 'anon') return anonType(shape.name);
  const memfdName = shape.kind === 'path' && link.toString('latin1', 0, 7) === '/memfd:';
  const stats = files.stat(fd);
  if (!stats) return undefined;
  const type = typeFromMode(stats.mode);
  return type === 'REG' && stats.nlink === 0 && memfdName ? 'memfd' : type;
}
