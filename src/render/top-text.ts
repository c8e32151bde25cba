/** The output of `fdscan top`: a ranked table for people, `fdscan/top@1` JSON for programs. */
import type { DescriptorLimits } from '../probe-contract.js';
import type { TopProcess, TopResult, TopSort } from '../top.js';
import { displayWidth, paintSpans, truncateSpans, wrapSpans } from './fit.js';
import type { Paint, Style } from './style.js';
import { escapeText } from './text.js';

export const TOP_SCHEMA = 'fdscan/top@1';

/** A soft limit as shown: the number, `unlimited`, or `?` where the platform cannot tell. */
export const limitText = (limits: DescriptorLimits | undefined): string => (limits ? String(limits.soft ?? 'unlimited') : '?');

/** `{"schema":"fdscan/top@1","processes":[...],"counted","unreadable"}`, processes ranked, keys in a fixed order. */
export function topDocument(result: TopResult): Record<string, unknown> {
  const processes = result.processes.map((p) => ({
    pid: p.pid, command: p.command, user: p.user, uid: p.uid, open: p.open, inheritable: p.inheritable,
    limits: p.limits, usage: p.usage, growth: p.growth,
  }));
  return { schema: TOP_SCHEMA, processes, counted: result.counted, unreadable: result.unreadable };
}

/** Columns a terminal too narrow for the table loses, in this order: the ones ranking needs least. */
const LEFT_OUT_FIRST = ['INHERIT', 'USER', 'LIMIT', 'GROWTH'];
/** COMMAND is cut (with …) to no fewer columns than this before a column is left out. */
const COMMAND_MIN = 10;
const GAP = 2;

/**
 * The table: a header line, then one line per process; GROWTH when the result has an earlier
 * reading. On a terminal (`style.width`) no line is wider than it: COMMAND is cut with `…`, then
 * INHERIT, USER, LIMIT and GROWTH are left out (a line says so), the header line wraps at spaces.
 */
export function renderTop(result: TopResult, sort: TopSort, style: Style, options: { interval?: boolean; now?: Date } = {}): string {
  const head = ['PID', 'USER', 'COMMAND', 'OPEN', 'LIMIT', 'USAGE', 'INHERIT', ...(options.interval ? ['GROWTH'] : [])];
  const rows = result.processes.map((p) => [
    String(p.pid), escapeText(p.user ?? '?'), escapeText(p.command), String(p.open), limitText(p.limits), usageText(p.usage),
    p.inheritable === undefined ? '?' : String(p.inheritable), ...(options.interval ? [growthText(p)] : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => displayWidth(r[i]!))));
  const { shown, command } = fitColumns(head, widths, style.width);
  const commandAt = head.indexOf('COMMAND');
  // Numbers right-aligned, names left-aligned.
  const left = new Set(['USER', 'COMMAND']);
  const cell = (text: string, i: number): string => {
    const fitted = i === commandAt && displayWidth(text) > command ? truncateSpans([{ text }], command, { color: false }) : text;
    const pad = ' '.repeat(Math.max(0, (i === commandAt ? command : widths[i]!) - displayWidth(fitted)));
    return left.has(head[i]!) ? fitted + pad : pad + fitted;
  };
  const line = (cells: string[]): string => shown.map((i) => cell(cells[i]!, i)).join(' '.repeat(GAP)).trimEnd();
  const time = options.now ? `; ${options.now.toTimeString().slice(0, 8)}` : '';
  const unreadable = result.unreadable > 0 ? `, ${result.unreadable} not readable by this user` : '';
  const title = `fdscan top: ${result.counted} processes counted${unreadable}; ranked by ${sort === 'usage' ? 'usage of the soft limit' : sort === 'count' ? 'open descriptors' : 'inheritable descriptors'}${time}`;
  const fit = (text: string, paint?: Paint): string[] => (style.width ? wrapSpans([{ text, paint }], style.width, style, true).map((l) => l.text) : [paint ? paintSpans([{ text, paint }], style) : text]);
  const lines = fit(title);
  const leftOut = head.filter((_, i) => !shown.includes(i));
  if (leftOut.length > 0) lines.push(...fit(`(${leftOut.join(', ')} left out: too narrow)`, 'dim'));
  lines.push(onOneLine(line(head), 'bold', style));
  result.processes.forEach((p, i) => {
    lines.push(onOneLine(line(rows[i]!), p.usage !== undefined && p.usage >= 0.8 ? (p.usage >= 0.95 ? 'red' : 'yellow') : undefined, style));
  });
  return `${lines.join('\n')}\n`;
}

/**
 * Which columns fit `width` (all without a width), and how wide COMMAND is: cut first, down to
 * COMMAND_MIN, then columns left out in LEFT_OUT_FIRST's order.
 */
function fitColumns(head: string[], widths: number[], width: number | undefined): { shown: number[]; command: number } {
  const commandAt = head.indexOf('COMMAND');
  let shown = head.map((_, i) => i);
  const total = (command: number): number => shown.reduce((sum, i) => sum + (i === commandAt ? command : widths[i]!), 0) + GAP * (shown.length - 1);
  const least = Math.min(widths[commandAt]!, COMMAND_MIN);
  if (width === undefined || total(widths[commandAt]!) <= width) return { shown, command: widths[commandAt]! };
  for (const name of LEFT_OUT_FIRST) {
    if (total(least) <= width) break;
    shown = shown.filter((i) => head[i] !== name);
  }
  return { shown, command: Math.max(least, widths[commandAt]! - (total(widths[commandAt]!) - width)) };
}

/** One table line in its paint; cut with … where even the fewest columns do not fit. */
function onOneLine(text: string, paint: Paint | undefined, style: Style): string {
  return style.width ? truncateSpans([{ text, paint }], style.width, style) : paintSpans([{ text, paint }], style);
}

function usageText(usage: number | undefined): string {
  return usage === undefined ? '?' : `${(usage * 100).toFixed(1)}%`;
}

function growthText(p: TopProcess): string {
  if (p.growth === undefined) return 'new';
  return p.growth > 0 ? `+${p.growth}` : String(p.growth);
}
