/**
 * Socket resolution for one network namespace: reads the tables of /proc/PID/net/ one at a time,
 * the most common first, until the socket asked for is found (an audit of a few unix and TCP
 * sockets reads two of the thirteen), and all once more when a socket is in none of them (it may
 * be newer than the read). The first few sockets are looked up as rows of the text; once more are
 * asked for (an audit of many), the tables are parsed whole.
 */
import { statSync } from 'node:fs';
import type { SocketInfo } from '../../src/probe-kit/index.js';
import { tryReadProcText } from './procfs.js';
import { type SocketTable, findSocket, parseSocketTable } from './net-tables.js';

/** Every table, in the order they are read: the kinds of socket processes hold most first. */
const TABLES = ['unix', 'tcp', 'tcp6', 'udp', 'udp6', 'netlink', 'packet', 'raw', 'raw6', 'udplite', 'udplite6', 'icmp', 'icmp6'];
/** Sockets looked up as rows of the text (each a search of it) before the tables are parsed whole. */
const ROWS_ALONE = 16;

/** A table read but not parsed: its text, searched for each socket asked until many are. */
interface TableText {
  name: string;
  text: string;
}

/** One namespace's tables: parsed rows, texts not parsed yet, names not read yet. */
interface Tables {
  parsed: SocketTable;
  texts: TableText[];
  unread: string[];
  lookups: number;
  reloaded: boolean;
}

function freshTables(reloaded: boolean): Tables {
  return { parsed: new Map(), texts: [], unread: [...TABLES], lookups: 0, reloaded };
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
      entry = freshTables(false);
      this.tablesByNamespace.set(key, entry);
    }
    let info = this.lookUp(entry, pid, inode);
    if (!info && !entry.reloaded) {
      entry = freshTables(true);
      this.tablesByNamespace.set(key, entry);
      info = this.lookUp(entry, pid, inode);
    }
    return info;
  }

  /** Looks in what is read, then reads the next table until the socket is found or none is left. */
  private lookUp(entry: Tables, pid: number, inode: number): SocketInfo | undefined {
    const alone = ++entry.lookups <= ROWS_ALONE;
    if (!alone) this.parseTexts(entry, pid);
    let info = entry.parsed.get(inode);
    for (let i = 0; !info && i < entry.texts.length; i++) info = this.findRow(entry, pid, entry.texts[i]!, inode);
    while (!info && entry.unread.length > 0) {
      const name = entry.unread.shift()!;
      const text = tryReadProcText(`/proc/${pid}/net/${name}`);
      if (text === undefined) continue; // protocol not built into this kernel
      const read = { name, text };
      if (alone) {
        entry.texts.push(read);
        info = this.findRow(entry, pid, read, inode);
      } else {
        this.parse(pid, read, entry.parsed);
        info = entry.parsed.get(inode);
      }
    }
    return info;
  }

  /** The socket's row alone; a table with a row that does not parse is parsed whole, its problem said once. */
  private findRow(entry: Tables, pid: number, table: TableText, inode: number): SocketInfo | undefined {
    try {
      return findSocket(table.name, table.text, inode);
    } catch {
      entry.texts = entry.texts.filter((t) => t !== table);
      this.parse(pid, table, entry.parsed);
      return entry.parsed.get(inode);
    }
  }

  private parseTexts(entry: Tables, pid: number): void {
    for (const table of entry.texts) this.parse(pid, table, entry.parsed);
    entry.texts = [];
  }

  private parse(pid: number, table: TableText, into: SocketTable): void {
    try {
      parseSocketTable(table.name, table.text, into);
    } catch (error) {
      this.problems.push(`/proc/${pid}/net/${table.name}: ${(error as Error).message}`);
    }
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
