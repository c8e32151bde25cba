/**
 * Parsers of the socket tables under /proc/PID/net/: tcp, udp, raw (v4 and v6), unix, netlink,
 * packet. Each yields socket inode → SocketInfo. Malformed lines throw ParseError.
 */
import { ParseError, formatIpv6, type SocketInfo } from '../../src/probe-kit/index.js';

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

/**
 * A /proc/net/unix row, `Num: RefCount Protocol Flags Type St Inode Path`, found in the whole text
 * at once (multiline, one line at a time): flags, type, state, inode, then the rest of the line.
 * One regular expression over the text instead of a split and a test per line: a machine with
 * thousands of unix sockets (a desktop, a browser) is read in a few milliseconds on a cold start.
 */
const UNIX_ROWS = /^[ \t]*[0-9a-fA-F]+: [0-9A-Fa-f]{8} [0-9A-Fa-f]{8} ([0-9A-Fa-f]{8}) ([0-9A-Fa-f]{4}) ([0-9A-Fa-f]{2})[ \t]+(\d+)(?=[ \n]|$)([^\n]*)/gm;
/** The same row, only where lastIndex is (a line start). */
const UNIX_ROW_AT = new RegExp(UNIX_ROWS.source, 'my');

/**
 * /proc/net/unix: the path is the rest of the line; abstract names start with @. The kernel prints
 * a bound path as it is, newlines included, so a line that does not start a row continues the path
 * of the row before (a name chosen by anyone must not blind fdscan to every unix socket). A path
 * that imitates a whole row cannot be told from one here; sock_diag's UNIX_DIAG_NAME could.
 */
export function parseUnixTable(text: string, into: SocketTable = new Map()): SocketTable {
  const headerEnd = text.indexOf('\n');
  if (text.slice(0, headerEnd === -1 ? undefined : headerEnd).trim() === '') throw new ParseError('/proc/net/unix', 'no header line');
  if (headerEnd === -1) return into;
  let last: SocketInfo | undefined;
  // The lines between two rows (or after the last) continue the path of the row before them.
  const continuation = (lines: string[]): void => {
    for (const line of lines) {
      if (last?.local !== undefined) last.local += `\n${line}`;
      else if (line.trim() !== '') throw new ParseError('/proc/net/unix', `short line ${JSON.stringify(line)}`);
    }
  };
  let at = headerEnd + 1;
  UNIX_ROWS.lastIndex = at;
  for (let match = UNIX_ROWS.exec(text); match; match = UNIX_ROWS.exec(text)) {
    // Rows start at a line start: the text from `at` (a line start) to here is whole lines.
    if (match.index > at) continuation(text.slice(at, match.index - 1).split('\n'));
    const flags = Number.parseInt(match[1]!, 16);
    const type = Number.parseInt(match[2]!, 16);
    const st = Number.parseInt(match[3]!, 16);
    const info: SocketInfo = {
      protocol: 'unix',
      socketType: UNIX_TYPES[type] ?? `type ${type}`,
      state: flags & SO_ACCEPTCON ? 'LISTEN' : (UNIX_STATES[st] ?? `0x${match[3]}`),
    };
    const path = match[5]!.trimStart();
    if (path !== '') info.local = path;
    into.set(Number(match[4]), info);
    last = info;
    at = UNIX_ROWS.lastIndex + 1;
  }
  if (at <= text.length) continuation(text.slice(at).split('\n'));
  // The text ends with a newline: the last (empty) piece is no part of a path.
  if (last?.local !== undefined && text.endsWith('\n') && last.local.endsWith('\n')) last.local = last.local.slice(0, -1);
  return into;
}

/**
 * The row of one unix socket in the text of /proc/net/unix, parsed as parseUnixTable parses it
 * (continuation lines included), without parsing the others: an audit of a few sockets on a
 * machine with thousands. Undefined when no row has that inode.
 */
export function findUnixSocket(text: string, inode: number): SocketInfo | undefined {
  const headerEnd = text.indexOf('\n');
  if (headerEnd === -1) return undefined;
  const digits = String(inode);
  // A row starts at the candidate's line start with that inode (a regular expression made per
  // inode would be compiled per socket).
  for (const start of candidateLines(text, digits, headerEnd)) {
    UNIX_ROW_AT.lastIndex = start;
    const found = UNIX_ROW_AT.exec(text);
    if (!found || found[4] !== digits) continue;
    // The row's own lines end where the next row starts: parsed with that row, so that they end
    // there as in the whole table.
    UNIX_ROWS.lastIndex = start + found[0].length;
    const next = UNIX_ROWS.exec(text);
    const end = next ? next.index + next[0].length : text.length;
    return parseUnixTable(`${text.slice(0, headerEnd + 1)}${text.slice(start, end)}`).get(inode);
  }
  return undefined;
}

/**
 * Start of each line after `from` where `digits` stand alone as a field (blank before, blank,
 * newline or the end after): where a row with that inode may be, found at memchr speed.
 */
function* candidateLines(text: string, digits: string, from: number): Generator<number> {
  for (let at = text.indexOf(digits, from); at !== -1; at = text.indexOf(digits, at + 1)) {
    const before = text.charCodeAt(at - 1);
    const after = text.charCodeAt(at + digits.length);
    if ((before === 32 || before === 9) && (Number.isNaN(after) || after === 32 || after === 9 || after === 10)) {
      yield text.lastIndexOf('\n', at) + 1;
    }
  }
}

/** Which column holds the inode in each one-line-per-row table (inet tables share one layout). */
function inodeColumn(table: string): number {
  return table === 'packet' ? 8 : 9;
}

/** Parses any table under /proc/PID/net/ by its file name into `into`. */
export function parseSocketTable(table: string, text: string, into: SocketTable = new Map()): SocketTable {
  if (table === 'unix') return parseUnixTable(text, into);
  if (table === 'netlink') return parseNetlinkTable(text, into);
  if (table === 'packet') return parsePacketTable(text, into);
  return parseInetTable(text, table, into);
}

/**
 * The socket with `inode` in the text of any table under /proc/PID/net/, parsed as the whole table
 * parses it, without parsing the other rows: a server with thousands of TCP connections costs an
 * audit of a few sockets a search of the text (memchr-fast), not thousands of rows of JavaScript.
 * Undefined when no row has that inode.
 */
export function findSocket(table: string, text: string, inode: number): SocketInfo | undefined {
  if (table === 'unix') return findUnixSocket(text, inode);
  const headerEnd = text.indexOf('\n');
  if (headerEnd === -1) return undefined;
  const digits = String(inode);
  const column = inodeColumn(table);
  // The candidate's line is the row when the number is in the inode column.
  for (const lineStart of candidateLines(text, digits, headerEnd)) {
    const lineEnd = text.indexOf('\n', lineStart);
    const line = text.slice(lineStart, lineEnd === -1 ? undefined : lineEnd);
    if (line.trim().split(/\s+/)[column] === digits) return parseSocketTable(table, `${text.slice(0, headerEnd + 1)}${line}\n`).get(inode);
  }
  return undefined;
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
