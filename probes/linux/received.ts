/**
 * Which descriptors this process received at its exec, although Node marked them close-on-exec.
 *
 * At start-up Node (libuv's uv_disable_stdio_inheritance) sets FD_CLOEXEC on descriptors 0-15
 * unconditionally, then on each next one until the first that is not open, before it opens any of
 * its own. A wrapper that passes them on must first tell them from what Node itself opened since,
 * all close-on-exec too. Node opens only anonymous inodes (epoll, eventfd, io_uring) and pipes of
 * which it holds both ends and that no other process holds, so within the marked range:
 * - anything else (files, devices, sockets, named pipes, a pipe with only one end here) was received;
 * - a pipe with both ends here was received when an ancestor holds it too (GNU make's jobserver);
 * - /dev/null, which Node opens too, was received when it is the open file description an ancestor holds;
 * - anonymous inodes are taken for Node's own: one received there cannot be told apart (said in docs/wrapping.md).
 * Node also opens files later, on first use of process.stdout (libuv keeps a /dev/null for EMFILE),
 * so the list is taken as early as possible (noteReceived, at the start of the CLI) and each
 * descriptor is checked to still be the same object when it is given back.
 */
import { fstatSync, statSync } from 'node:fs';
import { linkShape, type LinkShape } from '../../src/probe-kit/index.js';
import { openDescriptorFiles } from './descriptor-files.js';
import { inheritable } from './open-flags.js';
import { readProcStat } from './process-info.js';
import { sameOpenFile } from './same-open-file.js';

const MARKED_UNCONDITIONALLY = 16;
const DEV_NULL = Buffer.from('/dev/null');
/**
 * The reader's Node fs road: the list is taken first thing at start-up, where loading koffi for
 * the libc road (milliseconds) would come before the tracer thread starts; at a few dozen
 * descriptors both roads take as long.
 */
const START_UP_READER = { reader: 'node' } as const;

interface OwnDescriptor {
  fd: number;
  link: string;
  shape: LinkShape;
  flags: number;
}

let noted: Array<{ fd: number; dev: number; ino: number }> | undefined;

/** Take the list now, before fdscan or Node open anything more; receivedButMarked later keeps to it. */
export function noteReceived(): void {
  noted = [];
  for (const fd of scan(true)) {
    try {
      const { dev, ino } = fstatSync(fd);
      noted.push({ fd, dev, ino });
    } catch { /* closed meanwhile */ }
  }
}

/**
 * Descriptors of this process that were received at its exec and are now close-on-exec only
 * because Node marked them: those noted earlier that still name the same object, else a scan now.
 */
export function receivedButMarked(): number[] {
  if (!noted) return scan(false);
  return noted.filter(({ fd, dev, ino }) => {
    try {
      const now = statSync(`/proc/self/fd/${fd}`);
      return now.dev === dev && now.ino === ino;
    } catch {
      return false;
    }
  }).map(({ fd }) => fd);
}

/** `early`: Node has opened no file yet (taken before anything touched stderr), so a /dev/null here was received. */
function scan(early: boolean): number[] {
  const own: OwnDescriptor[] = [];
  const files = openDescriptorFiles(process.pid, START_UP_READER);
  try {
    for (const fd of files.list()) {
      try {
        const link = files.link(fd);
        own.push({ fd, link: link.toString('utf8'), shape: linkShape(link), flags: files.fdinfo(fd).flags });
      } catch { /* closed meanwhile */ }
    }
  } finally {
    files.close();
  }
  // Node marked 0-15 and then each next open descriptor: the range ends at the first gap above 15.
  // (Its own descriptors may fill gaps since, so this can overshoot; the tests below still apply.)
  const open = new Set(own.map((d) => d.fd));
  let end = MARKED_UNCONDITIONALLY;
  while (open.has(end)) end++;
  const candidates = own.filter((d) => d.fd > 2 && d.fd < end && !inheritable(d.flags) && d.shape.kind !== 'anon');
  const pipeEnds = new Map<number, number>();
  for (const { shape } of own) if (shape.kind === 'pipe') pipeEnds.set(shape.inode, (pipeEnds.get(shape.inode) ?? 0) + 1);
  let ancestors: AncestorDescriptors | undefined;
  return candidates.filter((d) => {
    // Node opens /dev/null itself (libuv's reserve for EMFILE), fresh: a received one is the
    // same open file description as an ancestor's.
    if (d.link === '/dev/null' && !early) {
      ancestors ??= ancestorDescriptors();
      return ancestors.devNull.some(([pid, fd]) => sameOrUnknown(d.fd, pid, fd));
    }
    if (d.shape.kind !== 'pipe' || pipeEnds.get(d.shape.inode)! < 2) return true;
    ancestors ??= ancestorDescriptors();
    return ancestors.pipes.has(d.shape.inode);
  }).map((d) => d.fd);
}

interface AncestorDescriptors {
  /** Inodes of the pipes ancestors hold. */
  pipes: Set<number>;
  /** Ancestors' descriptors on /dev/null, as [pid, fd]. */
  devNull: Array<[number, number]>;
}

/** What this process's ancestors hold (those this user may read): pipes, and /dev/null descriptors. */
function ancestorDescriptors(): AncestorDescriptors {
  const found: AncestorDescriptors = { pipes: new Set(), devNull: [] };
  for (let pid = process.ppid, depth = 0; pid > 1 && depth < 64; depth++) {
    try {
      const files = openDescriptorFiles(pid, START_UP_READER);
      try {
        for (const fd of files.list()) {
          try {
            const link = files.linkView(fd);
            const shape = linkShape(link);
            if (shape.kind === 'pipe') found.pipes.add(shape.inode);
            else if (link.equals(DEV_NULL)) found.devNull.push([pid, fd]);
          } catch { /* closed meanwhile */ }
        }
      } finally {
        files.close();
      }
    } catch { /* another user's, or gone */ }
    const stat = readProcStat(pid);
    if (!stat) break;
    pid = stat.ppid;
  }
  return found;
}

function sameOrUnknown(fd: number, pid: number, otherFd: number): boolean {
  try {
    return sameOpenFile(process.pid, fd, pid, otherFd);
  } catch {
    return false;
  }
}
