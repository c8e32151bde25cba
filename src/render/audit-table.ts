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
import type { Descriptor, ProcessAudit } from '../probe-kit/contract.js';
import { type Cell, DESCRIPTOR_FIELDS, columnsOf } from './columns.js';
import { type Span, cutSpans, displayWidth, paintSpans, proseLines, truncateSpans, wrapSpans } from './fit.js';
import { type Frame, type Layout, type Measured, fitColumns, frameLine, headLine, leftOutNote, measure, rowLines, shownWidths } from './grid.js';
import { type Paint, type Style, paint } from './style.js';
import { escapeText, plural } from './text.js';

export { frameLine, type Frame } from './grid.js';
export { targetSpans } from './columns.js';

/** Lines written at a time. */
const CHUNK_LINES = 256;

/** The audit of one process as blocks of lines (no trailing newline), to write one after the other. */
export function* renderAudit(audit: ProcessAudit, style: Style): Generator<string> {
  yield headerLines(audit, style).join('\n');
  if (audit.fds.length > 0) yield* renderRows(audit.fds, style);
  for (const error of audit.errors) yield proseLines([{ text: `warning: ${escapeText(error)}`, paint: 'red' }], style).join('\n');
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
    lines.push(...proseLines([{ text: `pid ${audit.thread} is a thread of this process; threads share its descriptors`, paint: 'dim' }], style));
  }
  lines.push(...proseLines(countSpans(audit), style));
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

/** n cells in cli-table3's box: one space of padding a side, n+1 borders. */
const boxOverhead = (cells: number): number => 3 * cells + 1;

function* renderRows(rows: Descriptor[], style: Style): Generator<string> {
  // FD TYPE MODE INHERIT OFFSET TARGET: the fields of a descriptor that have a column.
  const m = measure(columnsOf(DESCRIPTOR_FIELDS), rows);
  const layout = fitColumns(m, style.width, boxOverhead);
  if (!layout.fits) {
    yield* stackedRows(m, style);
    return;
  }
  const note = leftOutNote(m, layout);
  if (note) yield proseLines([{ text: note, paint: 'dim' }], style).join('\n');
  yield* grid(m, layout, style);
}

/**
 * The grid: cli-table3 draws the frame of the layout's column widths (borders, junctions,
 * padding), and each line of the table is filled into it, written CHUNK_LINES lines at a time.
 */
function* grid(m: Measured<Descriptor>, layout: Layout, style: Style): Generator<string> {
  const frame = drawFrame(shownWidths(m, layout), style);
  let block = [frame.top, headLine(m, layout, frame, style)];
  for (const cells of m.cells) {
    block.push(...rowLines(cells, m, layout, frame, style));
    if (block.length >= CHUNK_LINES) {
      yield block.join('\n');
      block = [];
    }
  }
  block.push(frame.bottom);
  yield block.join('\n');
}

/** A grid as cli-table3 draws it: the top border, the text around the cells of a line, the bottom border. */
export interface BoxFrame extends Frame {
  top: string;
  bottom: string;
}

/**
 * The frame cli-table3 draws for cells `widths` columns wide, no lines between rows (`compact`),
 * learnt from one row of marker cells; its box characters painted grey when colour is on.
 */
export function drawFrame(widths: number[], style: Style): BoxFrame {
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

/**
 * For terminals too narrow for any grid: the short columns on one line (those stacked: 'left-out'
 * dropped, then the one stacked: {cut} cut, when even they do not fit), the flexible column's
 * cell on the lines below, indented.
 */
function* stackedRows(m: Measured<Descriptor>, style: Style): Generator<string> {
  const width = style.width!;
  const short = m.columns.map((_, i) => i).filter((i) => i !== m.flex);
  const lineWidth = (shown: number[]): number => shown.reduce((sum, i) => sum + m.widths[i]!, 0) + shown.length - 1;
  const shown = lineWidth(short) <= width ? short : short.filter((i) => m.columns[i]!.stacked !== 'left-out');
  const cutAt = m.columns.findIndex((column) => typeof column.stacked === 'object');
  const cutTo = (m.columns[cutAt]?.stacked as { cut: number } | undefined)?.cut ?? 0;
  const cutWidth = Math.max(cutTo, Math.min(m.widths[cutAt] ?? 0, width - lineWidth(shown) + (m.widths[cutAt] ?? 0)));
  const indent = Math.min(m.widths[short[0]!]! + 1, 8);
  const cell = (i: number, text: string, look: Paint | undefined): string => {
    const w = i === cutAt ? cutWidth : m.widths[i]!;
    const fitted = i === cutAt ? cutSpans([{ text }], w, style) : { text, width: displayWidth(text) };
    return (look ? paint(style, look, fitted.text) : fitted.text) + ' '.repeat(Math.max(0, w - fitted.width));
  };
  const hidden = short.filter((i) => !shown.includes(i)).map((i) => m.columns[i]!.head);
  yield proseLines([{ text: `(target below each descriptor${hidden.length > 0 ? `; ${hidden.join(', ')} left out` : ''})`, paint: 'dim' }], style).join('\n');
  yield shown.map((i) => cell(i, m.columns[i]!.head, 'bold')).join(' ').trimEnd();
  let block: string[] = [];
  for (const cells of m.cells) {
    block.push(shown.map((i) => {
      const text = textOf(cells[i]!);
      return cell(i, text, m.columns[i]!.paint?.(text));
    }).join(' ').trimEnd());
    const below = cells[m.flex]!;
    for (const line of wrapSpans(typeof below === 'string' ? [{ text: below }] : below, width - indent, style, 'separators')) block.push(' '.repeat(indent) + line.text);
    if (block.length >= CHUNK_LINES) {
      yield block.join('\n');
      block = [];
    }
  }
  if (block.length > 0) yield block.join('\n');
}

/** A short cell's text (they are one span). */
function textOf(cell: Cell): string {
  return typeof cell === 'string' ? cell : cell.map((span) => span.text).join('');
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
  return proseLines([{ text: `${plural(c.audited, 'process', 'processes')} audited, ${c.unreadable} not readable by this user, ${c.vanished} exited meanwhile${threads}` }], style).join('\n');
}

/** At most `max` characters, `…` marking a cut; a cut never splits a surrogate pair (that would print a lone half). */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = /[\ud800-\udbff]/.test(text.charAt(max - 2)) ? max - 2 : max - 1;
  return `${text.slice(0, cut)}…`;
}
