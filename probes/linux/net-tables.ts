/**
 * Parsers of the socket tables under /proc/PID/net/: tcp, udp, raw (v4 and v6), unix, netlink,
 * packet. Each yields socket inode → SocketInfo. Malformed lines throw ParseError.
 */
import type { SocketInfo } from '../../src/probe-contract.js';
import { ParseError } from '../../src/errors.js';
import { formatIpv6 } from '../../src/net-address.js';

const TCP_STATES = [
  '', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE',
  'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV',
];
const UNIX_TYPES: Record<number, string> = { 1: 'STREAM', 2: 'DGRAM', 3: 'RAW', 4: 'RDM', 5: 'SEQPACKET' };
const UNIX_STATES = ['', 'UNCONNECTED', 'CONNECTING', 'CONNECTED', 'DISCONNECTING'];
const SO_ACCEPTCON = 0x10000;
const NETLINK_PROTOCOLS: Record<number, string> = {
  0: 'ROUTE', 2: 'USERSOCK', 4: 'SOCK_DIAG', 5: 'NFLOG', 6: 'XFRM', 7: 'SELINUX', 9: 'AUDIT',
  10: 'FIB_LOOKUP', 11: 'CONNECTOR', 12: 'NETFILTER', 15: 'KOBJECT_UEVENT', 16: 'GENERIC',
  18: 'SCSITRANSPORT', 19: 'ECRYPTFS', 20: 'RDMA', 21: 'CRYPTO',
};

export type SocketTable = Map<number, SocketInfo>;

/** The inet tables share one layout; `protocol` names the file they came from. */
export function parseInetTable(text: string, protocol: string, into: SocketTable = new Map()): SocketTable {
  const isTcp = protocol.startsWith('tcp');
  const isUdp = protocol.startsWith('udp');
  forEachRow(text, protocol, (fields, line) => {
    if (fields.length < 10) throw new ParseError(`/proc/net/${protocol}`, `short line ${JSON.stringify(line)}`);
    const inode = toInode(fields[9]!, protocol, line);
    if (inode === 0) return; // TIME_WAIT and request sockets belong to no descriptor
    const st = Number.parseInt(fields[3]!, 16);
    const info: SocketInfo = { protocol, local: decodeInetAddress(fields[1]!, protocol) };
    const remote = decodeInetAddress(fields[2]!, protocol);
    if (isTcp) {
      info.state = TCP_STATES[st] ?? `0x${fields[3]}`;
      if (info.state !== 'LISTEN') info.remote = remote;
    } else if (st === 1) {
      info.remote = remote;
      info.state = isUdp ? 'CONNECTED' : 'ESTABLISHED';
    }
    into.set(inode, info);
  });
  return into;
}

/** The start of a /proc/net/unix row: `Num: RefCount Protocol Flags Type St Inode`. */
const UNIX_ROW = /^\s*[0-9a-fA-F]+: [0-9A-Fa-f]{8} [0-9A-Fa-f]{8} [0-9A-Fa-f]{8} [0-9A-Fa-f]{4} [0-9A-Fa-f]{2}\s+\d+(?: |$)/;

/**
 * /proc/net/unix: the path is the rest of the line; abstract names start with @. The kernel prints
 * a bound path as it is, newlines included, so a line that does not start a row continues the path
 * of the row before (a name chosen by anyone must not blind fdscan to every unix socket). A path
 * that imitates a whole row cannot be told from one here; sock_diag's UNIX_DIAG_NAME could.
 */
export function parseUnixTable(text: string, into: SocketTable = new Map()): SocketTable {
  const lines = text.split('\n');
  if (lines.length === 0 || lines[0]!.trim() === '') throw new ParseError('/proc/net/unix', 'no header line');
  let last: SocketInfo | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (!UNIX_ROW.test(line)) {
      if (last?.local !== undefined) last.local += `\n${line}`;
      else if (line.trim() !== '') throw new ParseError('/proc/net/unix', `short line ${JSON.stringify(line)}`);
      continue;
    }
    const fields = line.trim().split(/\s+/);
    const flags = Number.parseInt(fields[3]!, 16);
    const type = Number.parseInt(fields[4]!, 16);
    const st = Number.parseInt(fields[5]!, 16);
    const inode = toInode(fields[6]!, 'unix', line);
    const info: SocketInfo = {
      protocol: 'unix',
      socketType: UNIX_TYPES[type] ?? `type ${type}`,
      state: flags & SO_ACCEPTCON ? 'LISTEN' : (UNIX_STATES[st] ?? `0x${fields[5]}`),
    };
    if (fields.length > 7) info.local = pathAfterField(line, 7);
    into.set(inode, info);
    last = info;
  }
  // The text ends with a newline: the last (empty) piece is no part of a path.
  if (last?.local !== undefined && text.endsWith('\n') && last.local.endsWith('\n')) last.local = last.local.slice(0, -1);
  return into;
}

/** /proc/net/netlink: protocol number in the Eth column, inode last. */
export function parseNetlinkTable(text: string, into: SocketTable = new Map()): SocketTable {
  forEachRow(text, 'netlink', (fields, line) => {
    if (fields.length < 10) throw new ParseError('/proc/net/netlink', `short line ${JSON.stringify(line)}`);
    const family = Number(fields[1]);
    const inode = toInode(fields[9]!, 'netlink', line);
    into.set(inode, { protocol: 'netlink', local: `${NETLINK_PROTOCOLS[family] ?? family} portid ${fields[2]}` });
  });
  return into;
}

/** /proc/net/packet: interface index and protocol (ethertype, hex). */
export function parsePacketTable(text: string, into: SocketTable = new Map()): SocketTable {
  forEachRow(text, 'packet', (fields, line) => {
    if (fields.length < 9) throw new ParseError('/proc/net/packet', `short line ${JSON.stringify(line)}`);
    const inode = toInode(fields[8]!, 'packet', line);
    into.set(inode, { protocol: 'packet', local: `proto 0x${fields[3]} ifindex ${fields[4]}` });
  });
  return into;
}

function forEachRow(text: string, table: string, onRow: (fields: string[], line: string) => void): void {
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    onRow(line.trim().split(/\s+/), line);
  }
  if (lines.length === 0 || lines[0]!.trim() === '') throw new ParseError(`/proc/net/${table}`, 'no header line');
}

function toInode(field: string, table: string, line: string): number {
  if (!/^\d+$/.test(field)) throw new ParseError(`/proc/net/${table}`, `inode is not a number in ${JSON.stringify(line)}`);
  return Number(field);
}

/** The text after the n-th whitespace-separated field of a line (keeps spaces in paths). */
function pathAfterField(line: string, n: number): string {
  const match = new RegExp(`^\\s*(?:\\S+\\s+){${n}}`).exec(line);
  return match ? line.slice(match[0].length) : '';
}

/** `0100007F:1F90` → `127.0.0.1:8080`; IPv6 words are in host (little-endian) order. */
export function decodeInetAddress(field: string, protocol: string): string {
  const colon = field.indexOf(':');
  const hex = field.slice(0, colon);
  const port = Number.parseInt(field.slice(colon + 1), 16);
  // 8 hex digits (IPv4) or 32 (IPv6): another length would decode to NaN bytes, not fail.
  if (colon === -1 || !/^(?:[0-9A-Fa-f]{8}|[0-9A-Fa-f]{32})$/.test(hex) || Number.isNaN(port)) {
    throw new ParseError(`/proc/net/${protocol}`, `bad address ${JSON.stringify(field)}`);
  }
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    for (let b = 6; b >= 0; b -= 2) bytes.push(Number.parseInt(hex.slice(word + b, word + b + 2), 16));
  }
  if (bytes.length === 4) return `${bytes.join('.')}:${port}`;
  if (bytes.length !== 16) throw new ParseError(`/proc/net/${protocol}`, `bad address length ${JSON.stringify(field)}`);
  return `[${formatIpv6(bytes)}]:${port}`;
}
