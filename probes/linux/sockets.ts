/**
 * Socket resolution for one network namespace: reads the tables of /proc/PID/net/ once, on the
 * first socket that asks, and once more when a socket is missing (it may be newer than the read).
 */
import { statSync } from 'node:fs';
import type { SocketInfo } from '../../src/probe-contract.js';
import { tryReadProcText } from './procfs.js';
import { type SocketTable, parseInetTable, parseNetlinkTable, parsePacketTable, parseUnixTable } from './net-tables.js';

const INET_TABLES = ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'udplite', 'udplite6', 'icmp', 'icmp6'];

/** Resolves socket inodes of processes, caching one table set per network namespace. */
export class SocketResolver {
  private readonly tablesByNamespace = new Map<string, { table: SocketTable; reloaded: boolean }>();
  // One stat of /proc/PID/ns/net per process, not one per socket: thousands of sockets share it.
  private readonly namespaceByPid = new Map<number, string>();
  readonly problems: string[] = [];

  /** The socket with `inode` as seen from `pid`'s network namespace, or undefined if unknown. */
  resolve(pid: number, inode: number): SocketInfo | undefined {
    const key = this.namespaceKey(pid);
    let entry = this.tablesByNamespace.get(key);
    if (!entry) {
      entry = { table: this.load(pid), reloaded: false };
      this.tablesByNamespace.set(key, entry);
    }
    let info = entry.table.get(inode);
    if (!info && !entry.reloaded) {
      entry.table = this.load(pid);
      entry.reloaded = true;
      info = entry.table.get(inode);
    }
    return info;
  }

  private namespaceKey(pid: number): string {
    let key = this.namespaceByPid.get(pid);
    if (key === undefined) {
      try {
        key = String(statSync(`/proc/${pid}/ns/net`).ino);
      } catch {
        key = `pid:${pid}`; // unreadable namespace link: keep this process's tables to itself
      }
      this.namespaceByPid.set(pid, key);
    }
    return key;
  }

  private load(pid: number): SocketTable {
    const table: SocketTable = new Map();
    const read = (name: string, parse: (text: string) => void): void => {
      const text = tryReadProcText(`/proc/${pid}/net/${name}`);
      if (text === undefined) return; // protocol not built into this kernel
      try {
        parse(text);
      } catch (error) {
        this.problems.push(`/proc/${pid}/net/${name}: ${(error as Error).message}`);
      }
    };
    for (const name of INET_TABLES) read(name, (text) => parseInetTable(text, name, table));
    read('unix', (text) => parseUnixTable(text, table));
    read('netlink', (text) => parseNetlinkTable(text, table));
    read('packet', (text) => parsePacketTable(text, table));
    return table;
  }
}

/** One line that says what a socket is, as lsof's NAME column does. */
export function describeSocket(info: SocketInfo | undefined, inode: number): string {
  if (!info) return `socket:[${inode}]`;
  if (info.protocol === 'unix') {
    const name = info.local ? info.local : `socket:[${inode}]`;
    const peer = info.peerInode ? ` ->[${info.peerInode}]` : '';
    return `unix ${name}${peer} type=${info.socketType ?? '?'}${info.state ? ` (${info.state})` : ''}`;
  }
  const addresses = info.remote ? `${info.local}->${info.remote}` : (info.local ?? '');
  return `${info.protocol} ${addresses}${info.state ? ` (${info.state})` : ''}`;
}
