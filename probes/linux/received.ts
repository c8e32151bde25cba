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
 * - anonymous inodes are taken for Node's own: one received there cannot be told apart (said in the README).
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { parseFdInfo } from './fdinfo.js';
import { O_CLOEXEC } from './open-flags.js';
import { readProcRecord } from './procfs.js';
import { readProcStat } from './process-info.js';

const MARKED_UNCONDITIONALLY = 16;

interface OwnDescriptor {
  fd: number;
  link: string;
  flags: number;
}

/** Descriptors of this process that were received at its exec and are now close-on-exec only because Node marked them. */
export function receivedButMarked(): number[] {
  const own: OwnDescriptor[] = [];
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    try {
      own.push({ fd, link: readlinkSync(`/proc/self/fd/${fd}`), flags: parseFdInfo(readProcRecord(`/proc/self/fdinfo/${fd}`)).flags });
    } catch { /* the listing's own descriptor, closed by now */ }
  }
  // Node marked 0-15 and then each next open descriptor: the range ends at the first gap above 15.
  // (Its own descriptors may fill gaps since, so this can overshoot; the tests below still apply.)
  const open = new Set(own.map((d) => d.fd));
  let end = MARKED_UNCONDITIONALLY;
  while (open.has(end)) end++;
  const candidates = own.filter((d) => d.fd > 2 && d.fd < end && (d.flags & O_CLOEXEC) !== 0 && !d.link.startsWith('anon_inode:'));
  const pipeEnds = new Map<string, number>();
  for (const d of own) if (d.link.startsWith('pipe:')) pipeEnds.set(d.link, (pipeEnds.get(d.link) ?? 0) + 1);
  let ancestorPipes: Set<string> | undefined;
  return candidates.filter((d) => {
    if (!d.link.startsWith('pipe:') || pipeEnds.get(d.link)! < 2) return true;
    ancestorPipes ??= pipesOfAncestors();
    return ancestorPipes.has(d.link);
  }).map((d) => d.fd);
}

/** Pipe links held by this process's ancestors (those this user may read). */
function pipesOfAncestors(): Set<string> {
  const pipes = new Set<string>();
  for (let pid = process.ppid, depth = 0; pid > 1 && depth < 64; depth++) {
    try {
      for (const name of readdirSync(`/proc/${pid}/fd`)) {
        try {
          const link = readlinkSync(`/proc/${pid}/fd/${name}`);
          if (link.startsWith('pipe:')) pipes.add(link);
        } catch { /* closed meanwhile */ }
      }
    } catch { /* another user's, or gone */ }
    const stat = readProcStat(pid);
    if (!stat) break;
    pid = stat.ppid;
  }
  return pipes;
}
