/**
 * The one grid of the text tables, the audit's and top's: columns (columns.ts) measured by display
 * width, fitted to a terminal (the flexible column wrapped or cut down to its least width, then
 * columns left out by rank), and each row drawn as lines of cells, padded and aligned, inside a
 * frame: cli-table3's box for the audit (audit-table.ts draws it), two spaces between cells for top.
 */
import type { Align, Cell, Column } from './columns.js';
import { type Line, type Span, cutSpans, displayWidth, paintSpans, spansWidth, wrapSpans } from './fit.js';
import { type Style, paint } from './style.js';

/** The rows' cells, computed once, and each column's width: its widest cell or its header. */
export interface Measured<Row> {
  columns: ReadonlyArray<Column<Row>>;
  cells: Cell[][];
  widths: number[];
  /** The flexible column's index, -1 when there is none. */
  flex: number;
}

/** The columns shown, by index, the flexible one's width, and whether that fitted (false: not even the fewest columns did). */
export interface Layout {
  shown: number[];
  flexWidth: number;
  fits: boolean;
}

/** What surrounds a line's cells: the n+1 pieces around n cells (borders and padding), and each cell's width and alignment. */
export interface Frame {
  around: string[];
  widths: number[];
  align?: Align[];
}

/** Columns a cell takes. */
export function cellWidth(cell: Cell): number {
  return typeof cell === 'string' ? displayWidth(cell) : spansWidth(cell);
}

/** Every row's cells, and the width of each column. */
export function measure<Row>(columns: ReadonlyArray<Column<Row>>, rows: readonly Row[]): Measured<Row> {
  const widths = columns.map((column) => displayWidth(column.head));
  const cells = rows.map((row) => columns.map((column, i) => {
    const cell = column.cell(row);
    widths[i] = Math.max(widths[i]!, cellWidth(cell));
    return cell;
  }));
  return { columns, cells, widths, flex: columns.findIndex((column) => column.flex !== undefined) };
}

/**
 * The columns `width` holds (every one without a width) with `overhead(n)` columns of frame for n
 * cells: the flexible column takes the room the others leave, down to its least width (its `min`,
 * or its widest cell when narrower); where even that does not fit, the columns of the lowest
 * `leftOut` rank go, then the next.
 */
export function fitColumns<Row>(m: Measured<Row>, width: number | undefined, overhead: (cells: number) => number): Layout {
  const widest = m.flex === -1 ? 0 : m.widths[m.flex]!;
  let shown = m.columns.map((_, i) => i);
  if (width === undefined) return { shown, flexWidth: widest, fits: true };
  const least = Math.min(widest, m.columns[m.flex]?.flex?.min ?? 0);
  const ranks = [...new Set(m.columns.flatMap((column) => (column.leftOut === undefined ? [] : [column.leftOut])))].sort((a, b) => a - b);
  for (let step = 0; ; step++) {
    const room = width - overhead(shown.length) - shown.reduce((sum, i) => sum + (i === m.flex ? 0 : m.widths[i]!), 0);
    if (room >= least) return { shown, flexWidth: Math.min(room, widest), fits: true };
    if (step === ranks.length) return { shown, flexWidth: least, fits: false };
    shown = shown.filter((i) => m.columns[i]!.leftOut !== ranks[step]);
  }
}

/** The width of each shown column in a layout. */
export function shownWidths<Row>(m: Measured<Row>, layout: Layout): number[] {
  return layout.shown.map((i) => (i === m.flex ? layout.flexWidth : m.widths[i]!));
}

/** `(MODE, OFFSET left out: too narrow)`, or undefined when every column is shown. */
export function leftOutNote<Row>(m: Measured<Row>, layout: Layout): string | undefined {
  const heads = m.columns.filter((_, i) => !layout.shown.includes(i)).map((column) => column.head);
  return heads.length > 0 ? `(${heads.join(', ')} left out: too narrow)` : undefined;
}

/** Cells with `gap` spaces between them, no border. */
export function spacedFrame<Row>(m: Measured<Row>, layout: Layout, gap: number): Frame {
  return { around: ['', ...layout.shown.slice(1).map(() => ' '.repeat(gap)), ''], widths: shownWidths(m, layout), align: layout.shown.map((i) => m.columns[i]!.align) };
}

/** One line of a grid: each cell padded to its column, on the side its alignment says, inside the frame. */
export function frameLine(frame: Frame, cells: Line[]): string {
  let out = frame.around[0]!;
  cells.forEach((cell, i) => {
    const padding = ' '.repeat(Math.max(0, frame.widths[i]! - cell.width));
    out += (frame.align?.[i] === 'right' ? padding + cell.text : cell.text + padding) + frame.around[i + 1]!;
  });
  return out;
}

/** The header line: each header in bold. */
export function headLine<Row>(m: Measured<Row>, layout: Layout, frame: Frame, style: Style): string {
  return frameLine(frame, layout.shown.map((i) => {
    const head = m.columns[i]!.head;
    return { text: paint(style, 'bold', head), width: displayWidth(head) };
  }));
}

const BLANK: Line = { text: '', width: 0 };

/**
 * The lines of one row: its cells in their paint; the flexible cell cut with … to its width, or
 * wrapped (at the terminal's width only) onto lines whose other cells are blank.
 */
export function rowLines<Row>(cells: readonly Cell[], m: Measured<Row>, layout: Layout, frame: Frame, style: Style): string[] {
  let more: Line[] = [];
  const line = layout.shown.map((i): Line => {
    const cell = cells[i]!;
    const column = m.columns[i]!;
    if (i !== m.flex) {
      if (typeof cell !== 'string') return { text: paintSpans(cell, style), width: spansWidth(cell) };
      const look = column.paint?.(cell);
      return { text: look ? paint(style, look, cell) : cell, width: displayWidth(cell) };
    }
    const spans: Span[] = typeof cell === 'string' ? [{ text: cell, paint: column.paint?.(cell) }] : cell;
    if (column.flex!.overflow === 'cut') return cutSpans(spans, layout.flexWidth, style);
    if (!style.width) return { text: paintSpans(spans, style), width: spansWidth(spans) };
    const [first, ...rest] = wrapSpans(spans, layout.flexWidth, style, 'separators');
    more = rest;
    return first!;
  });
  const lines = [frameLine(frame, line)];
  for (const next of more) lines.push(frameLine(frame, layout.shown.map((i) => (i === m.flex ? next : BLANK))));
  return lines;
}
