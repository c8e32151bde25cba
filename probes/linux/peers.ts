/**
 * Who else holds a pipe or socket: one pass over the descriptor links of every readable process
 * (readlink only, no stat or fdinfo), as lsof +E does. Built on first need, once per audit, from
 * the rows of the processes the audit has read and the links of the others.
 *
 * Each row gets the count of other holders and only the first PEER_LIMIT of them: 2,000 processes
 * sharing one pipe would otherwise give every one of their rows the 1,999 others, four million
 * entries. Holders are kept sorted by pid and fd, so a row finds itself by binary search.
 */
import { statSync } from 'node:fs';
import { PEER_LIMIT, linkShape, type PeerHolder } from '../../src/probe-kit/index.js';
import { openDescriptorFiles, type DescriptorFiles } from './descriptor-files.js';
import { listLinuxPids, readProcStat } from './process-info.js';
import { unixPeerInodes } from './unix-diag.js';

export type PeerKind = 'pipe' | 'socket';

/** Pipe and socket ends of one process, as parallel lists (a process may hold tens of thousands). */
export interface HeldEnds {
  command: string;
  fds: number[];
  kinds: PeerKind[];
  inodes: number[];
}

const NO_HOLDERS: PeerHolder[] = [];

export class PeerIndex {
  // Holders by inode, one map per kind: pipefs and sockfs number their inodes apart.
  private holders?: { pipe: Map<number, PeerHolder[]>; socket: Map<number, PeerHolder[]> };
  private unixPeers?: Map<number, number>;
  private readonly ownNetNamespace = netNamespace('self');
  // One stat of /proc/PID/ns/net per process, not one per unix socket.
  private readonly namespaceByPid = new Map<number, number | undefined>();
  // Pipe and socket ends of processes the audit has just read, taken as they are.
  private readonly provided = new Map<number, HeldEnds>();

  /** The pipe and socket ends of `pid` as an audit read them; used if the index is not built yet. */
  provide(pid: number, ends: HeldEnds): void {
    if (!this.holders) this.provided.set(pid, ends);
  }

  /** Holders of the pipe or socket `inode` other than (pid, fd): how many, and the first PEER_LIMIT by pid and fd. */
  holdersOf(kind: PeerKind, inode: number, except: { pid: number; fd: number }): { peers: PeerHolder[]; count: number } {
    const all = this.index()[kind].get(inode) ?? NO_HOLDERS;
    const self = findHolder(all, except);
    const peers: PeerHolder[] = [];
    for (let i = 0; i < all.length && peers.length < PEER_LIMIT; i++) if (i !== self) peers.push(all[i]!);
    return { peers, count: all.length - (self === -1 ? 0 : 1) };
  }

  /** Inode of the peer of a connected unix socket, when `pid` shares fdscan's network namespace. */
  unixPeerOf(pid: number, inode: number): number | undefined {
    if (!this.namespaceByPid.has(pid)) this.namespaceByPid.set(pid, netNamespace(String(pid)));
    if (this.namespaceByPid.get(pid) !== this.ownNetNamespace) return undefined;
    if (!this.unixPeers) {
      try {
        this.unixPeers = unixPeerInodes();
      } catch {
        this.unixPeers = new Map(); // sock_diag refused (old kernel, seccomp): peers stay unknown
      }
    }
    return this.unixPeers.get(inode);
  }

  private index(): NonNullable<PeerIndex['holders']> {
    if (this.holders) return this.holders;
    const holders = { pipe: new Map<number, PeerHolder[]>(), socket: new Map<number, PeerHolder[]>() };
    const add = (kind: PeerKind, inode: number, holder: PeerHolder): void => {
      const byInode = holders[kind];
      const list = byInode.get(inode);
      if (list) list.push(holder);
      else byInode.set(inode, [holder]);
    };
    for (const pid of listLinuxPids()) {
      if (pid === process.pid) continue; // fdscan's own descriptors are not the user's
      const known = this.provided.get(pid) ?? readEnds(pid);
      if (!known) continue; // unreadable or gone: its descriptors stay unknown
      for (let i = 0; i < known.fds.length; i++) add(known.kinds[i]!, known.inodes[i]!, { pid, fd: known.fds[i]!, command: known.command });
    }
    // Pids come in ascending order and each one's descriptors too: the lists are sorted already.
    this.holders = holders;
    this.provided.clear();
    return holders;
  }
}

/** The pipe and socket ends of a process the audit did not read; undefined when it cannot be read. */
function readEnds(pid: number): HeldEnds | undefined {
  let files: DescriptorFiles;
  try {
    files = openDescriptorFiles(pid, { fdinfo: false, reader: 'node' });
  } catch {
    return undefined;
  }
  const ends: HeldEnds = { command: '', fds: [], kinds: [], inodes: [] };
  try {
    for (const fd of files.list()) {
      let shape;
      try {
        shape = linkShape(files.linkView(fd));
      } catch {
        continue; // closed meanwhile
      }
      if (shape.kind !== 'pipe' && shape.kind !== 'socket') continue;
      ends.fds.push(fd);
      ends.kinds.push(shape.kind);
      ends.inodes.push(shape.inode);
    }
  } catch {
    return undefined;
  } finally {
    files.close();
  }
  if (ends.fds.length > 0) ends.command = readProcStat(pid)?.command ?? '?';
  return ends;
}

/** Index of (pid, fd) in `holders`, sorted by pid then fd; -1 when absent. */
function findHolder(holders: PeerHolder[], key: { pid: number; fd: number }): number {
  let low = 0;
  let high = holders.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const h = holders[mid]!;
    const order = h.pid - key.pid || h.fd - key.fd;
    if (order === 0) return mid;
    if (order < 0) low = mid + 1;
    else high = mid - 1;
  }
  return -1;
}

function netNamespace(pid: string): number | undefined {
  try {
    return statSync(`/proc/${pid}/ns/net`).ino;
  } catch {
    return undefined;
  }
}
