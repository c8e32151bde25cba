/** The human-readable audit: a header line per process and a cli-table3 table of descriptors. */
import Table from 'cli-table3';
import type { Descriptor, ProcessAudit } from '../probe-contract.js';
import { type Style, paint } from './style.js';
import { descriptorTarget, escapeText } from './text.js';

const HEAD = ['FD', 'TYPE', 'MODE', 'INHERIT', 'OFFSET', 'TARGET'];

/** One process: header, table, then any errors met while reading it. */
export function renderAuditTable(audit: ProcessAudit, style: Style): string {
  const inheritable = audit.fds.filter((d) => d.inheritable === true).length;
  const argv = audit.argv && audit.argv.length > 0 ? audit.argv.join(' ') : audit.command;
  // Cut before escaping, so a cut never falls inside an escape.
  const lines = [
    `${paint(style, 'bold', `pid ${audit.pid}`)} ${escapeText(audit.command)}${argv !== audit.command ? `  ${paint(style, 'dim', escapeText(truncate(argv, 120)))}` : ''}`,
    `${audit.fds.length} descriptor${audit.fds.length === 1 ? '' : 's'}, ${paint(style, inheritable ? 'yellow' : 'green', `${inheritable} inheritable`)}` +
      `${audit.zombie ? ' (zombie: it holds no descriptors)' : ''}${audit.incomplete ? paint(style, 'red', ' (incomplete: the process changed while being read)') : ''}`,
  ];
  if (audit.fds.length > 0) lines.push(renderRows(audit.fds, style));
  for (const error of audit.errors) lines.push(paint(style, 'red', `warning: ${escapeText(error)}`));
  return lines.join('\n');
}

function renderRows(rows: Descriptor[], style: Style): string {
  const cells = rows.map((row) => [
    String(row.fd),
    escapeText(row.type),
    row.access ?? '?',
    row.inheritable === undefined ? '?' : row.inheritable ? 'yes' : '-',
    row.offset === undefined ? '' : String(row.offset),
  ]);
  // Short columns as wide as their widest cell; the target takes the rest of the terminal.
  const fixed = HEAD.slice(0, 5).map((head, i) => Math.max(head.length, ...cells.map((c) => c[i]!.length)) + 2);
  const table = new Table({
    head: HEAD,
    style: { head: style.color ? ['bold'] : [], border: style.color ? ['grey'] : [], compact: true },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    ...(style.width
      ? { colWidths: [...fixed, Math.max(20, style.width - fixed.reduce((a, b) => a + b, 0) - HEAD.length - 1)], wordWrap: true, wrapOnWordBoundary: false }
      : {}),
  });
  rows.forEach((row, i) => {
    const [fd, type, access, inherit, offset] = cells[i]!;
    table.push([fd, type, access, inherit === 'yes' ? paint(style, 'yellow', inherit) : inherit, offset, targetText(row, style)]);
  });
  return table.toString();
}

/** Target with its marks: deleted, peers, a read error. */
export function targetText(row: Descriptor, style: Style): string {
  let text = descriptorTarget(row);
  if (row.deleted) text += paint(style, 'red', ' [deleted]');
  if (row.peers && row.peers.length > 0) {
    const shown = row.peers.slice(0, 3).map((p) => `${p.pid}/${escapeText(p.command)}:${p.fd}`).join(', ');
    text += paint(style, 'dim', ` <-> ${shown}${row.peers.length > 3 ? ` +${row.peers.length - 3} more` : ''}`);
  }
  if (row.error) text += paint(style, 'red', `${text ? ' ' : ''}(error: ${escapeText(row.error)})`);
  return text;
}

/** The line after the tables of `--all`. */
export function renderMachineSummary(audited: number, unreadable: number, vanished: number): string {
  return `${audited} processes audited, ${unreadable} not readable by this user, ${vanished} exited meanwhile`;
}

/** At most `max` characters, `…` marking a cut; a cut never splits a surrogate pair (that would print a lone half). */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = /[\ud800-\udbff]/.test(text.charAt(max - 2)) ? max - 2 : max - 1;
  return `${text.slice(0, cut)}…`;
}
