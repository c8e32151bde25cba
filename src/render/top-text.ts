/** The output of `fdscan top`: a ranked table for people, `fdscan/top@1` JSON for programs. */
import type { TopResult, TopSort } from '../audit/top.js';
import { TOP_FIELDS, columnsOf, jsonFields } from './columns.js';
import { paintSpans, proseLines, truncateSpans } from './fit.js';
import { fitColumns, frameLine, headLine, leftOutNote, measure, rowLines, spacedFrame } from './grid.js';
import type { Paint, Style } from './style.js';

export { limitText } from './columns.js';

export const TOP_SCHEMA = 'fdscan/top@1';

/** `{"schema":"fdscan/top@1","processes":[...],"counted","unreadable"}`, processes ranked, keys in a fixed order. */
export function topDocument(result: TopResult): Record<string, unknown> {
  const processes = result.processes.map((p) => jsonFields(p, TOP_FIELDS));
  return { schema: TOP_SCHEMA, processes, counted: result.counted, unreadable: result.unreadable };
}

const GAP = 2;
/** Cells are painted by the line they are on, not one by one. */
const UNPAINTED: Style = { color: false };

/**
 * The table: a header line, then one line per process; GROWTH when the result has an earlier
 * reading. On a terminal (`style.width`) no line is wider than it: COMMAND is cut with `…`, then
 * INHERIT, USER, LIMIT and GROWTH are left out (a line says so), the header line wraps at spaces.
 */
export function renderTop(result: TopResult, sort: TopSort, style: Style, options: { interval?: boolean; now?: Date } = {}): string {
  const m = measure(columnsOf(TOP_FIELDS, options.interval ? [] : ['growth']), result.processes);
  const layout = fitColumns(m, style.width, (cells) => GAP * (cells - 1));
  const frame = spacedFrame(m, layout, GAP);
  const time = options.now ? `; ${options.now.toTimeString().slice(0, 8)}` : '';
  const unreadable = result.unreadable > 0 ? `, ${result.unreadable} not readable by this user` : '';
  const title = `fdscan top: ${result.counted} processes counted${unreadable}; ranked by ${sort === 'usage' ? 'usage of the soft limit' : sort === 'count' ? 'open descriptors' : 'inheritable descriptors'}${time}`;
  const lines = proseLines([{ text: title }], style);
  const note = leftOutNote(m, layout);
  if (note) lines.push(...proseLines([{ text: note, paint: 'dim' }], style));
  lines.push(onOneLine(headLine(m, layout, frame, UNPAINTED).trimEnd(), 'bold', style));
  result.processes.forEach((p, i) => {
    const line = rowLines(m.cells[i]!, m, layout, frame, UNPAINTED)[0]!.trimEnd();
    lines.push(onOneLine(line, p.usage !== undefined && p.usage >= 0.8 ? (p.usage >= 0.95 ? 'red' : 'yellow') : undefined, style));
  });
  return `${lines.join('\n')}\n`;
}

/** One table line in its paint; cut with … where even the fewest columns do not fit. */
function onOneLine(text: string, paint: Paint | undefined, style: Style): string {
  return style.width ? truncateSpans([{ text, paint }], style.width, style) : paintSpans([{ text, paint }], style);
}
