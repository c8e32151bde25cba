/** The output of `fdscan top`: a ranked table for people, `fdscan/top@1` JSON for programs. */
import type { DescriptorLimits } from '../probe-contract.js';
import type { TopProcess, TopResult, TopSort } from '../top.js';
import { paint, type Style } from './style.js';
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

/** The table: a header line, then one line per process; GROWTH when the result has an earlier reading. */
export function renderTop(result: TopResult, sort: TopSort, style: Style, options: { interval?: boolean; now?: Date } = {}): string {
  const head = ['PID', 'USER', 'COMMAND', 'OPEN', 'LIMIT', 'USAGE', 'INHERIT', ...(options.interval ? ['GROWTH'] : [])];
  const rows = result.processes.map((p) => [
    String(p.pid), escapeText(p.user ?? '?'), escapeText(p.command), String(p.open), limitText(p.limits), usageText(p.usage),
    p.inheritable === undefined ? '?' : String(p.inheritable), ...(options.interval ? [growthText(p)] : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  // Numbers right-aligned, names left-aligned.
  const left = new Set([1, 2]);
  const line = (cells: string[]): string => cells.map((c, i) => (left.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const time = options.now ? `; ${options.now.toTimeString().slice(0, 8)}` : '';
  const unreadable = result.unreadable > 0 ? `, ${result.unreadable} not readable by this user` : '';
  const lines = [
    `fdscan top: ${result.counted} processes counted${unreadable}; ranked by ${sort === 'usage' ? 'usage of the soft limit' : sort === 'count' ? 'open descriptors' : 'inheritable descriptors'}${time}`,
    paint(style, 'bold', line(head)),
  ];
  result.processes.forEach((p, i) => {
    const text = line(rows[i]!);
    lines.push(p.usage !== undefined && p.usage >= 0.8 ? paint(style, p.usage >= 0.95 ? 'red' : 'yellow', text) : text);
  });
  return `${lines.join('\n')}\n`;
}

function usageText(usage: number | undefined): string {
  return usage === undefined ? '?' : `${(usage * 100).toFixed(1)}%`;
}

function growthText(p: TopProcess): string {
  if (p.growth === undefined) return 'new';
  return p.growth > 0 ? `+${p.growth}` : String(p.growth);
}
