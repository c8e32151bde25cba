/**
 * Socket resolution for one network namespace: reads the tables of /proc/PID/net/ once, on the
 * first socket that asks, and once more when a socket is missing (it may be newer than the read).
 */
import { statSync } from 'node:fs';
import type { SocketInfo } from '../../src/probe-contract.js';
import { tryReadProcText } from './procfs.js';
import { type SocketTable, findUnixSocket, parseInetTable, parseNetlinkTable, parsePacketTable, parseUnixTable } from './net-tables.js';

const INET_TABLES = ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6', 'udplite', 'udplite6', 'icmp', 'icmp6'];
/** Unix sockets looked up one row at a time (each a scan of the text) before the whole table is parsed. */
const UNIX_ROWS_ALONE = 16;

/** One namespace's tables: the unix table kept as text until many of its sockets are asked for. */
interface Tables {
  table: SocketTable;
  unixText: string | undefined;
  unixLookups: number;
  reloaded: boolean;
}

/** Resolves socket inodes of processes, caching one table set per network namespace. */
export class SocketResolver {
  private readonly tablesByNamespace = new Map<string, Tables>();
  // One stat of /proc/PID/ns/net per process, not one per socket: thousands of sockets share it.
  private readonly namespaceByPid = new Map<number, string>();
  readonly problems: string[] = [];

  /** The socket with `inode` as seen from `pid`'s network namespace, or undefined if unknown. */
  resolve(pid: number, inode: number): SocketInfo | undefined {
    const key = this.namespaceKey(pid);
    let entry = this.tablesByNamespace.get(key);
    if (!entry) {
      entry = { ...this.load(pid), reloaded: false, unixLookups: 0 };
      this.tablesByNamespace.set(key, entry);
    }
    let info = this.lookUp(entry, pid, inode);
    if (!info && !entry.reloaded) {
      Object.assign(entry, this.load(pid), { reloaded: true, unixLookups: 0 });
      info = this.lookUp(entry, pid, inode);
    }
    return info;
  }

  /**
   * From the parsed tables, else from the unix table's text: the row alone for the first few
   * sockets (an audit of one process), the whole table once many ask (an audit of all).
   */
  private lookUp(entry: Tables, pid: number, inode: number): SocketInfo | undefined {
    const info = entry.table.get(inode);
    if (info || entry.unixText === undefined) return info;
    const text = entry.unixText;
    try {
      if (++entry.unixLookups <= UNIX_ROWS_ALONE) return findUnixSocket(text, inode);
      entry.unixText = undefined;
      parseUnixTable(text, entry.table);
    } catch (error) {
      entry.unixText = undefined;
      this.problems.push(`/proc/${pid}/net/unix: ${(error as Error).message}`);
    }
    return entry.table.get(inode);
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

  private load(pid: number): Pick<Tables, 'table' | 'unixText'> {
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
    read('netlink', (text) => parseNetlinkTable(text, table));
    read('packet', (text) => parsePacketTable(text, table));
    return { table, unixText: tryReadProcText(`/proc/${pid}/net/unix`) };
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
