/**
 * The human-readable audit: a header per process, then its descriptors as a grid drawn with
 * cli-table3 that fits the terminal, written a block of lines at a time.
 *
 * How cli-table3 is used, and why so. Given every row, cli-table3 lays the table out by checking
 * each cell against every cell of the rows above it (layout-manager's fillInTable): quadratic in
 * rows, 10,000 took seconds. Its wrapping counts the bytes of ANSI escapes as columns, so a painted
 * `yes` split into `ye`/`s` and escapes were cut across lines; a cell of several lines is measured
 * again whole for each of its lines. And drawing one cell costs ~20 µs (options merged per cell,
 * ANSI expressions rebuilt per measure), 20 times all the rest of a row. So cli-table3 draws the
 * frame for the chosen column widths (borders, junctions, padding: drawFrame), cells are wrapped
 * and painted here by display width, line by line (fit.ts), and each line is filled into the frame:
 * linear, and byte for byte what cli-table3 draws for those rows (a test compares them).
 * A terminal too narrow for every column gets fewer columns, then a stacked list: never a line
 * wider than the terminal.
 */
import Table from 'cli-table3';
import type { Descriptor, ProcessAudit } from '../probe-contract.js';
import { type Line, type Span, displayWidth, paintSpans, spansWidth, truncateSpans, wrapSpans } from './fit.js';
import { type Style, paint } from './style.js';
import { descriptorTarget, escapeText, plural } from './text.js';

/** Lines written at a time. */
const CHUNK_LINES = 256;
/** The narrowest target column worth a grid; below it the terminal gets fewer columns. */
const MIN_TARGET = 20;
/** Holders named in a row; the rest are counted. */
const SHOWN_PEERS = 3;
/** Watched descriptors named in an epoll row; the rest are counted. */
const SHOWN_WATCHES = 16;

type Short = 'fd' | 'type' | 'mode' | 'inherit' | 'offset';
const HEADS: Record<Short | 'target', string> = { fd: 'FD', type: 'TYPE', mode: 'MODE', inherit: 'INHERIT', offset: 'OFFSET', target: 'TARGET' };
/** Grid layouts, widest first: every column, then the ones that matter most. */
const GRIDS: Short[][] = [['fd', 'type', 'mode', 'inherit', 'offset'], ['fd', 'type', 'inherit']];
const ALL_SHORT: Short[] = GRIDS[0]!;

interface Cells extends Record<Short, string> {
  target: Span[];
}

/** The audit of one process as blocks of lines (no trailing newline), to write one after the other. */
export function* renderAudit(audit: ProcessAudit, style: Style): Generator<string> {
  yield headerLines(audit, style).join('\n');
  if (audit.fds.length > 0) yield* renderRows(audit.fds, style);
  for (const error of audit.errors) yield fitted([{ text: `warning: ${escapeText(error)}`, paint: 'red' }], style).join('\n');
}

/** One process as one string: header, table, then any errors met while reading it. */
export function renderAuditTable(audit: ProcessAudit, style: Style): string {
  return [...renderAudit(audit, style)].join('\n');
}

function headerLines(audit: ProcessAudit, style: Style): string[] {
  const argv = audit.argv && audit.argv.length > 0 ? audit.argv.join(' ') : audit.command;
  // Cut before escaping, so that without a terminal's width a cut never falls inside an escape.
  const title: Span[] = [{ text: `pid ${audit.pid}`, paint: 'bold' }, { text: ` ${escapeText(audit.command)}` }];
  if (argv !== audit.command) title.push({ text: `  ${escapeText(truncate(argv, 120))}`, paint: 'dim' });
  const lines = [style.width ? truncateSpans(title, style.width, style) : paintSpans(title, style)];
  if (audit.thread !== undefined) {
    lines.push(...fitted([{ text: `pid ${audit.thread} is a thread of this process; threads share its descriptors`, paint: 'dim' }], style));
  }
  lines.push(...fitted(countSpans(audit), style));
  return lines;
}

/**
 * `23 descriptors (limit 1024), 14 inheritable`; `3 of 23 descriptors shown` when a filter chose
 * the rows. The limit is the soft one, what the process can open; absent where it is not known.
 */
function countSpans(audit: ProcessAudit): Span[] {
  if (audit.kernelThread) return [{ text: 'kernel thread: it has no descriptor table' }];
  const inheritable = audit.fds.filter((d) => d.inheritable === true).length;
  const shown = audit.total !== undefined ? `${audit.fds.length} of ${plural(audit.total, 'descriptor')} shown` : plural(audit.fds.length, 'descriptor');
  const limit = audit.limits === undefined ? '' : ` (limit ${audit.limits.soft ?? 'unlimited'})`;
  const spans: Span[] = [{ text: `${shown}${limit}, ` }, { text: `${inheritable} inheritable`, paint: inheritable ? 'yellow' : 'green' }];
  if (audit.zombie) spans.push({ text: ' (zombie: it holds no descriptors)' });
  if (audit.incomplete) spans.push({ text: ' (incomplete: the process changed while being read)', paint: 'red' });
  return spans;
}

/** Prose lines: broken between words at the terminal's width, or one line without a terminal. */
function fitted(spans: Span[], style: Style): string[] {
  return style.width ? wrapSpans(spans, style.width, style, true).map((line) => line.text) : [paintSpans(spans, style)];
}

function* renderRows(rows: Descriptor[], style: Style): Generator<string> {
  const cells = rows.map((row): Cells => ({
    fd: String(row.fd),
    type: escapeText(row.type),
    mode: row.access ?? '?',
    inherit: row.inheritable === undefined ? '?' : row.inheritable ? 'yes' : '-',
    offset: row.offset === undefined ? '' : String(row.offset),
    target: targetSpans(row),
  }));
  const widths = { fd: 0, type: 0, mode: 0, inherit: 0, offset: 0 } as Record<Short, number>;
  for (const key of ALL_SHORT) widths[key] = HEADS[key].length;
  let widest = HEADS.target.length;
  for (const c of cells) {
    for (const key of ALL_SHORT) widths[key] = Math.max(widths[key], displayWidth(c[key]));
    widest = Math.max(widest, spansWidth(c.target));
  }

  if (!style.width) {
    yield* grid(cells, ALL_SHORT, widths, widest, style);
    return;
  }
  for (const columns of GRIDS) {
    // Each column is padded by one space a side; n+1 borders for n columns, the target included.
    const room = style.width - columns.reduce((sum, key) => sum + widths[key] + 2, 0) - 2 - (columns.length + 2);
    if (room >= Math.min(MIN_TARGET, widest)) {
      if (columns.length < ALL_SHORT.length) yield hiddenNote(columns, style);
      yield* grid(cells, columns, widths, Math.min(room, widest), style);
      return;
    }
  }
  yield* stackedRows(cells, widths, style);
}

/** What a narrow terminal does not show, and where to find it. */
function hiddenNote(columns: Short[], style: Style): string {
  const hidden = ALL_SHORT.filter((key) => !columns.includes(key)).map((key) => HEADS[key]);
  return fitted([{ text: `(${hidden.join(', ')} left out: too narrow)`, paint: 'dim' }], style).join('\n');
}

/**
 * The grid: cli-table3 draws the frame of these column widths (borders, junctions, padding), and
 * each line of the table is filled into it, written CHUNK_LINES lines at a time.
 */
function* grid(cells: Cells[], columns: Short[], widths: Record<Short, number>, target: number, style: Style): Generator<string> {
  const frame = drawFrame([...columns.map((key) => widths[key]), target], style);
  const head = [...columns.map((key) => HEADS[key]), HEADS.target].map((text): Line => ({ text: paint(style, 'bold', text), width: text.length }));
  let block = [frame.top, frameLine(frame, head)];
  for (const c of cells) {
    const lines = style.width ? wrapSpans(c.target, target, style, 'separators') : [{ text: paintSpans(c.target, style), width: spansWidth(c.target) }];
    block.push(frameLine(frame, [...columns.map((key) => shortLine(c, key, style)), lines[0]!]));
    // A wrapped target continues on lines whose short cells are blank.
    for (const line of lines.slice(1)) block.push(frameLine(frame, [...columns.map(() => BLANK), line]));
    if (block.length >= CHUNK_LINES) {
      yield block.join('\n');
      block = [];
    }
  }
  block.push(frame.bottom);
  yield block.join('\n');
}

/** A grid as cli-table3 draws it: the top border, the text around the cells of a line, the bottom border. */
export interface Frame {
  top: string;
  /** The n+1 pieces around a line's n cells: borders and padding. */
  around: string[];
  /** Columns of each cell's content (without padding). */
  widths: number[];
  bottom: string;
}

const BLANK: Line = { text: '', width: 0 };

/**
 * The frame cli-table3 draws for cells `widths` columns wide, no lines between rows (`compact`),
 * learnt from one row of marker cells; its box characters painted grey when colour is on.
 */
export function drawFrame(widths: number[], style: Style): Frame {
  const markers = widths.map((w, i) => String.fromCharCode(0x41 + i).repeat(w));
  const table = new Table({
    colWidths: widths.map((w) => w + 2),
    wordWrap: false,
    style: { head: [], border: [], compact: true },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  table.push(markers);
  const [top, row, bottom] = table.toString().split('\n') as [string, string, string];
  const around: string[] = [];
  let at = 0;
  for (const marker of markers) {
    const found = row.indexOf(marker, at);
    around.push(row.slice(at, found));
    at = found + marker.length;
  }
  around.push(row.slice(at));
  const grey = (text: string): string => text.replace(/[^ ]+/g, (box) => paint(style, 'grey', box));
  return { top: grey(top), around: around.map(grey), widths, bottom: grey(bottom) };
}

/** One line of the grid: each cell padded to its column inside the frame. */
export function frameLine(frame: Frame, cells: Line[]): string {
  let out = frame.around[0]!;
  cells.forEach((cell, i) => {
    out += cell.text + ' '.repeat(Math.max(0, frame.widths[i]! - cell.width)) + frame.around[i + 1]!;
  });
  return out;
}

function shortLine(c: Cells, key: Short, style: Style): Line {
  const text = c[key];
  return { text: key === 'inherit' && text === 'yes' ? paint(style, 'yellow', text) : text, width: displayWidth(text) };
}

/**
 * For terminals too narrow for any grid: the short columns on one line (OFFSET dropped, then TYPE
 * cut, when even they do not fit), the target on the lines below, indented.
 */
function* stackedRows(cells: Cells[], widths: Record<Short, number>, style: Style): Generator<string> {
  const width = style.width!;
  const lineWidth = (keys: Short[]): number => keys.reduce((sum, key) => sum + widths[key], 0) + keys.length - 1;
  const keys = lineWidth(ALL_SHORT) <= width ? ALL_SHORT : ALL_SHORT.filter((key) => key !== 'offset');
  const typeWidth = Math.max(4, Math.min(widths.type, width - lineWidth(keys) + widths.type));
  const indent = Math.min(widths.fd + 1, 8);
  const cell = (key: Short, text: string, look?: 'bold' | 'yellow'): string => {
    const w = key === 'type' ? typeWidth : widths[key];
    const fitText = key === 'type' ? truncateSpans([{ text }], w, style) : text;
    const padding = ' '.repeat(Math.max(0, w - displayWidth(fitText)));
    return (look ? paint(style, look, fitText) : fitText) + padding;
  };
  const hidden = keys.length < ALL_SHORT.length ? '; OFFSET left out' : '';
  yield fitted([{ text: `(target below each descriptor${hidden})`, paint: 'dim' }], style).join('\n');
  yield keys.map((key) => cell(key, HEADS[key], 'bold')).join(' ').trimEnd();
  let block: string[] = [];
  for (const c of cells) {
    block.push(keys.map((key) => cell(key, c[key], key === 'inherit' && c.inherit === 'yes' ? 'yellow' : undefined)).join(' ').trimEnd());
    for (const line of wrapSpans(c.target, width - indent, style, 'separators')) block.push(' '.repeat(indent) + line.text);
    if (block.length >= CHUNK_LINES) {
      yield block.join('\n');
      block = [];
    }
  }
  if (block.length > 0) yield block.join('\n');
}

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

/** What `--all` saw, for the line after its tables. */
export interface MachineCounts {
  audited: number;
  unreadable: number;
  vanished: number;
  /** Kernel threads, left out: they hold no descriptor table. */
  kernelThreads: number;
}

/** The line after the tables of `--all`. */
export function renderMachineSummary(c: MachineCounts, style: Style): string {
  const threads = c.kernelThreads > 0 ? `, ${plural(c.kernelThreads, 'kernel thread')} left out (no descriptor table)` : '';
  return fitted([{ text: `${plural(c.audited, 'process', 'processes')} audited, ${c.unreadable} not readable by this user, ${c.vanished} exited meanwhile${threads}` }], style).join('\n');
}

/** At most `max` characters, `…` marking a cut; a cut never splits a surrogate pair (that would print a lone half). */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = /[\ud800-\udbff]/.test(text.charAt(max - 2)) ? max - 2 : max - 1;
  return `${text.slice(0, cut)}…`;
}
