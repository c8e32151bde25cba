/**
 * Who else holds a pipe or socket: one pass over the descriptor links of every readable process
 * (readlink only, no stat or fdinfo), as lsof +E does. Built on first need, once per audit.
 */
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import type { PeerHolder } from '../../src/probe-contract.js';
import { listLinuxPids, readProcStat } from './process-info.js';
import { unixPeerInodes } from './unix-diag.js';

export class PeerIndex {
  private holders?: Map<string, PeerHolder[]>;
  private unixPeers?: Map<number, number>;
  private readonly ownNetNamespace = netNamespace('self');
  // One stat of /proc/PID/ns/net per process, not one per unix socket.
  private readonly namespaceByPid = new Map<number, number | undefined>();

  /** Holders of `kind:[inode]` other than (pid, fd). */
  holdersOf(kind: 'pipe' | 'socket', inode: number, except: { pid: number; fd: number }): PeerHolder[] {
    const all = this.index().get(`${kind}:[${inode}]`) ?? [];
    return all.filter((h) => h.pid !== except.pid || h.fd !== except.fd);
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
    for (const pid of listLinuxPids()) {
      if (pid === process.pid) continue; // fdscan's own descriptors are not the user's
      let names: string[];
      try {
        names = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue; // unreadable or gone: its descriptors stay unknown
      }
      let command: string | undefined;
      for (const name of names) {
        let link: string;
        try {
          link = readlinkSync(`/proc/${pid}/fd/${name}`);
        } catch {
          continue;
        }
        if (!link.startsWith('pipe:') && !link.startsWith('socket:')) continue;
        command ??= readProcStat(pid)?.command ?? '?';
        let list = holders.get(link);
        if (!list) holders.set(link, (list = []));
        list.push({ pid, fd: Number(name), command });
      }
    }
    this.holders = holders;
    return holders;
  }
}

function netNamespace(pid: string): number | undefined {
  try {
    return statSync(`/proc/${pid}/ns/net`).ino;
  } catch {
    return undefined;
  }
}
