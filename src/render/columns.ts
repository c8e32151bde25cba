/**
 * The column model, as lsfd has it: each JSON document fdscan prints has one table of its fields,
 * keyed by the type the data comes in (a field added to the type without an entry here fails to
 * compile). An entry is a documented field: jsonFields writes it, and writes nothing the table
 * lacks. An entry with a `column` is also a column of a text table: header, alignment, the text of
 * its cell, when a narrow terminal leaves it out, and for the one column that gives way to the
 * others the width it may be cut or wrapped to. grid.ts lays these columns out and draws them, for
 * the audit and for top. Adding a column is one entry (in top, also its place in TOP's `columns`).
 */
import type { Descriptor, DescriptorLimits, PeerHolder, ProcessAudit, SocketInfo } from '../probe-kit/contract.js';
import type { TopProcess } from '../audit/top.js';
import type { Span } from './fit.js';
import type { Paint } from './style.js';
import { descriptorTarget, escapeText } from './text.js';

export type Align = 'left' | 'right';

/** A cell's content, escaped: text in one paint, or spans of several. */
export type Cell = string | Span[];

/** How a field shows as a column of a text table. */
export interface Column<Row> {
  head: string;
  align: Align;
  cell(row: Row): Cell;
  /** The paint of a text cell, by its text. */
  paint?(text: string): Paint | undefined;
  /** Left out on a terminal too narrow for every column: lowest rank first, equal ranks together; absent: always shown. */
  leftOut?: number;
  /** The column that gives way to the others: wrapped or cut down to `min` columns before any other is left out. */
  flex?: { min: number; overflow: 'wrap' | 'cut' };
  /** In the audit's stacked list (the narrowest terminals): left out when the line is too wide, or cut down to `cut` columns. */
  stacked?: 'left-out' | { cut: number };
}

type Element<V> = V extends readonly (infer E)[] ? E : V;

/** One documented field; `fields` for an object, or an array of objects, whose own fields are documented. */
export interface Field<Row, Value> {
  column?: Column<Row>;
  fields?: FieldTable<Element<NonNullable<Value>>>;
  /** Kept in the library's data, not documented: never written to JSON. */
  internal?: true;
}

/** The fields of one kind of object, in the order the documentation gives them. */
export interface FieldTable<Row> {
  /**
   * The order jsonFields writes keys in: `data`, the data's own (the probe's; documents of
   * fdscan/audit@1 have always kept it), or `fields`, this table's.
   */
  order: 'data' | 'fields';
  fields: { readonly [K in keyof Row]-?: Field<Row, Row[K]> };
  /** The text table's columns, in order, when not the entries with a column in theirs. */
  columns?: ReadonlyArray<keyof Row & string>;
}

type AnyTable = FieldTable<Record<string, unknown>>;

/** A table as the JSON writer reads it: its order, and each documented key with the table of its own fields. */
interface Writer {
  table: AnyTable;
  /** The table's `fields` it was made from. */
  made: object;
  order: 'data' | 'fields';
  keys: Map<string, Writer | undefined>;
  /** The keys whose values have documented fields of their own. */
  nested: Writer[];
}

// Made once per table, again only when its fields were replaced: a Map, not the table's object
// (whose prototype would answer for keys such as `constructor`), with the nested tables made too,
// so a row costs no look-up of them.
const writers = new WeakMap<AnyTable, Writer>();

function writerOf(table: AnyTable): Writer {
  const made = writers.get(table);
  if (made && current(made)) return made;
  const writer: Writer = { table, made: table.fields, order: table.order, keys: new Map(), nested: [] };
  for (const [key, field] of Object.entries(table.fields)) {
    if (field.internal) continue;
    const nested = field.fields ? writerOf(field.fields as AnyTable) : undefined;
    writer.keys.set(key, nested);
    if (nested) writer.nested.push(nested);
  }
  writers.set(table, writer);
  return writer;
}

function current(writer: Writer): boolean {
  return writer.table.fields === writer.made && writer.nested.every(current);
}

/** `value` as its JSON document writes it: its documented fields only, and theirs likewise. */
export function jsonFields<Row extends object>(value: Row, table: FieldTable<Row>): Record<string, unknown> {
  return documented(value as Record<string, unknown>, writerOf(table as unknown as AnyTable));
}

function documented(data: Record<string, unknown>, writer: Writer): Record<string, unknown> {
  // Data holding documented fields only is written as it is: copying 10,000 rows to write the same
  // keys again made the JSON of a 10,000-descriptor audit twice as slow.
  if (writer.order === 'data' && onlyDocumented(data, writer)) return data;
  const out: Record<string, unknown> = {};
  for (const key of writer.order === 'data' ? Object.keys(data) : writer.keys.keys()) {
    if (!writer.keys.has(key)) continue;
    const value = data[key];
    const nested = writer.keys.get(key);
    if (nested === undefined || value === null || typeof value !== 'object') out[key] = value;
    else out[key] = Array.isArray(value) ? value.map((item: Record<string, unknown>) => documented(item, nested)) : documented(value as Record<string, unknown>, nested);
  }
  return out;
}

/** True when every field of `data`, and of the objects in it, is documented. */
function onlyDocumented(data: Record<string, unknown>, writer: Writer): boolean {
  for (const key in data) {
    const nested = writer.keys.get(key);
    if (nested === undefined) {
      if (!writer.keys.has(key)) return false;
      continue;
    }
    const value = data[key];
    if (value === null || typeof value !== 'object') continue;
    if (!Array.isArray(value)) {
      if (!onlyDocumented(value as Record<string, unknown>, nested)) return false;
      continue;
    }
    for (const item of value as Array<Record<string, unknown>>) if (!onlyDocumented(item, nested)) return false;
  }
  return true;
}

/** The columns of a table's text table, in order; `without` leaves some out (top's GROWTH with a single reading). */
export function columnsOf<Row>(table: FieldTable<Row>, without: ReadonlyArray<keyof Row> = []): Array<Column<Row>> {
  const fields = table.fields as Record<keyof Row, Field<Row, unknown>>;
  const keys = table.columns ?? (Object.keys(fields) as Array<keyof Row>).filter((key) => fields[key].column);
  return keys.filter((key) => !without.includes(key)).map((key) => fields[key].column!);
}

/** Holders named in a row; the rest are counted. */
const SHOWN_PEERS = 3;
/** Watched descriptors named in an epoll row; the rest are counted. */
const SHOWN_WATCHES = 16;

/** The target with its marks: deleted, what an epoll instance watches, other holders, a read error. */
export function targetSpans(row: Descriptor): Span[] {
  let target = descriptorTarget(row);
  if (row.watches && row.watches.length > 0 && target === '[eventpoll]') {
    // lsof's form, numbers ascending as lsof sorts them: [eventpoll:5,6,8]. fdinfo lists them in
    // the kernel's order (by file, not by number); JSON keeps that.
    const shown = [...row.watches].sort((a, b) => a - b).slice(0, SHOWN_WATCHES).join(',');
    target = `[eventpoll:${shown}${row.watches.length > SHOWN_WATCHES ? `,+${row.watches.length - SHOWN_WATCHES} more` : ''}]`;
  }
  const spans: Span[] = [{ text: target }];
  if (row.deleted) spans.push({ text: ' [deleted]', paint: 'red' });
  const count = row.peerCount ?? row.peers?.length ?? 0;
  if (row.peers && row.peers.length > 0) {
    const names = row.peers.slice(0, SHOWN_PEERS).map((p) => `${p.pid}/${escapeText(p.command)}:${p.fd}`).join(', ');
    const more = count > SHOWN_PEERS ? ` +${count - SHOWN_PEERS} more` : '';
    // A pipe's other holders, and the holders of a unix socket's other end, are at the other end;
    // those of an inet socket hold that very socket.
    const shared = row.type === 'SOCK' && row.socket !== undefined && row.socket.protocol !== 'unix';
    spans.push({ text: shared ? ` (also held by ${names}${more})` : ` <-> ${names}${more}`, paint: 'dim' });
  }
  if (row.error) spans.push({ text: `${target ? ' ' : ''}(error: ${escapeText(row.error)})`, paint: 'red' });
  return spans;
}

/** A soft limit as shown: the number, `unlimited`, or `?` where the platform cannot tell. */
export const limitText = (limits: DescriptorLimits | undefined): string => (limits ? String(limits.soft ?? 'unlimited') : '?');

const LIMIT_FIELDS: FieldTable<DescriptorLimits> = { order: 'data', fields: { soft: {}, hard: {} } };

const SOCKET_FIELDS: FieldTable<SocketInfo> = {
  order: 'data',
  fields: { protocol: {}, local: {}, remote: {}, state: {}, socketType: {}, peerInode: {} },
};

const PEER_FIELDS: FieldTable<PeerHolder> = { order: 'data', fields: { pid: {}, fd: {}, command: {} } };

/** A row of fdscan/audit@1's `fds`, and the audit's table: FD TYPE MODE INHERIT OFFSET TARGET. */
export const DESCRIPTOR_FIELDS: FieldTable<Descriptor> = {
  order: 'data',
  fields: {
    fd: { column: { head: 'FD', align: 'left', cell: (d) => String(d.fd) } },
    type: { column: { head: 'TYPE', align: 'left', cell: (d) => escapeText(d.type), stacked: { cut: 4 } } },
    access: { column: { head: 'MODE', align: 'left', cell: (d) => d.access ?? '?', leftOut: 1 } },
    inheritable: {
      column: {
        head: 'INHERIT', align: 'left', cell: (d) => (d.inheritable === undefined ? '?' : d.inheritable ? 'yes' : '-'),
        paint: (text) => (text === 'yes' ? 'yellow' : undefined),
      },
    },
    offset: { column: { head: 'OFFSET', align: 'left', cell: (d) => (d.offset === undefined ? '' : String(d.offset)), leftOut: 1, stacked: 'left-out' } },
    // The narrowest target column worth a grid is 20; below it the terminal gets fewer columns.
    target: { column: { head: 'TARGET', align: 'left', cell: targetSpans, flex: { min: 20, overflow: 'wrap' } } },
    targetBytes: {},
    deleted: {},
    flags: {},
    device: {},
    rdev: {},
    inode: {},
    socket: { fields: SOCKET_FIELDS },
    peers: { fields: PEER_FIELDS },
    peerCount: {},
    watches: {},
    error: {},
  },
};

/** fdscan/audit@1: one process. Its header lines are prose, not columns. */
export const PROCESS_FIELDS: FieldTable<ProcessAudit> = {
  order: 'data',
  fields: {
    pid: {}, command: {}, argv: {}, ppid: {}, uid: {}, platform: {}, limits: { fields: LIMIT_FIELDS },
    incomplete: {}, zombie: {}, kernelThread: {}, thread: {}, total: {}, fds: { fields: DESCRIPTOR_FIELDS }, errors: {},
  },
};

function usageText(usage: number | undefined): string {
  return usage === undefined ? '?' : `${(usage * 100).toFixed(1)}%`;
}

/**
 * A row of fdscan/top@1's `processes`, keys in this order, and top's table: names left-aligned,
 * numbers right-aligned; COMMAND is cut (with …) to 10 columns before INHERIT, USER, LIMIT and
 * GROWTH are left out, in that order.
 */
export const TOP_FIELDS: FieldTable<TopProcess> = {
  order: 'fields',
  fields: {
    pid: { column: { head: 'PID', align: 'right', cell: (p) => String(p.pid) } },
    command: { column: { head: 'COMMAND', align: 'left', cell: (p) => escapeText(p.command), flex: { min: 10, overflow: 'cut' } } },
    user: { column: { head: 'USER', align: 'left', cell: (p) => escapeText(p.user ?? '?'), leftOut: 2 } },
    uid: {},
    open: { column: { head: 'OPEN', align: 'right', cell: (p) => String(p.open) } },
    inheritable: { column: { head: 'INHERIT', align: 'right', cell: (p) => (p.inheritable === undefined ? '?' : String(p.inheritable)), leftOut: 1 } },
    limits: { fields: LIMIT_FIELDS, column: { head: 'LIMIT', align: 'right', cell: (p) => limitText(p.limits), leftOut: 3 } },
    usage: { column: { head: 'USAGE', align: 'right', cell: (p) => usageText(p.usage) } },
    growth: { column: { head: 'GROWTH', align: 'right', cell: (p) => (p.growth === undefined ? 'new' : p.growth > 0 ? `+${p.growth}` : String(p.growth)), leftOut: 4 } },
  },
  columns: ['pid', 'user', 'command', 'open', 'limits', 'usage', 'inheritable', 'growth'],
};
