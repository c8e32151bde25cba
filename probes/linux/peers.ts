/**
 * Who else holds a pipe or socket: one pass over the descriptor links of every readable process
 * (readlink only, no stat or fdinfo), as lsof +E does. Built on first need, once per audit.
 *
 * Each row gets the count of other holders and only the first PEER_LIMIT of them: 2,000 processes
 * sharing one pipe would otherwise give every one of their rows the 1,999 others, four million
 * entries. Holders are kept sorted by pid and fd, so a row finds itself by binary search.
 */
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { PEER_LIMIT, type PeerHolder } from '../../src/probe-contract.js';
import { listLinuxPids, readProcStat } from './process-info.js';
import { unixPeerInodes } from './unix-diag.js';

export class PeerIndex {
  private holders?: Map<string, PeerHolder[]>;
  private unixPeers?: Map<number, number>;
  private readonly ownNetNamespace = netNamespace('self');
  // One stat of /proc/PID/ns/net per process, not one per unix socket.
  private readonly namespaceByPid = new Map<number, number | undefined>();
  // Pipe and socket links of processes the audit has just read, taken as they are.
  private readonly provided = new Map<number, { command: string; links: Array<[fd: number, link: string]> }>();

  /** The pipe and socket links of `pid` as an audit read them; used if the index is not built yet. */
  provide(pid: number, command: string, links: Array<[fd: number, link: string]>): void {
    if (!this.holders) this.provided.set(pid, { command, links });
  }

  /** Holders of `kind:[inode]` other than (pid, fd): how many, and the first PEER_LIMIT by pid and fd. */
  holdersOf(kind: 'pipe' | 'socket', inode: number, except: { pid: number; fd: number }): { peers: PeerHolder[]; count: number } {
    const all = this.index().get(`${kind}:[${inode}]`) ?? [];
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

  private index(): Map<string, PeerHolder[]> {
    if (this.holders) return this.holders;
    const holders = new Map<string, PeerHolder[]>();
    const add = (link: string, holder: PeerHolder): void => {
      let list = holders.get(link);
      if (!list) holders.set(link, (list = []));
      list.push(holder);
    };
    for (const pid of listLinuxPids()) {
      if (pid === process.pid) continue; // fdscan's own descriptors are not the user's
      const known = this.provided.get(pid);
      if (known) {
        for (const [fd, link] of known.links) add(link, { pid, fd, command: known.command });
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue; // unreadable or gone: its descriptors stay unknown
      }
      let command: string | undefined;
      names.sort((a, b) => Number(a) - Number(b));
      for (const name of names) {
        let link: string;
        try {
          link = readlinkSync(`/proc/${pid}/fd/${name}`);
        } catch {
          continue;
        }
        if (!link.startsWith('pipe:') && !link.startsWith('socket:')) continue;
        command ??= readProcStat(pid)?.command ?? '?';
        add(link, { pid, fd: Number(name), command });
      }
    }
    // Pids come in ascending order and each one's descriptors too: the lists are sorted already.
    this.holders = holders;
    this.provided.clear();
    return holders;
  }
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
