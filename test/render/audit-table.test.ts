/**
 * The audit's text at every terminal width, colour on and off: no line wider than the terminal, no
 * short cell split, no escape cut across lines, every target whole; the grid is what cli-table3
 * draws; headers count right.
 */
import test from 'ava';
import Table from 'cli-table3';
import type { Descriptor, ProcessAudit } from '../../src/probe-kit/contract.js';
import { drawFrame, frameLine, renderAuditTable, renderMachineSummary } from '../../src/render/audit-table.js';
import { wrapSpans } from '../../src/render/fit.js';
import type { Style } from '../../src/render/style.js';
import { columns, gridCells, isPlain, parseLine } from '../helpers/terminal-text.js';

const longPath = `/srv/${'data-'.repeat(30)}/日本語のファイル名/e\u0301t\u00e9/${'x'.repeat(90)}.log`;
const rows: Descriptor[] = [
  { fd: 0, type: 'CHR', target: '/dev/null', inheritable: true, access: 'r', offset: 0 },
  { fd: 3, type: 'REG', target: longPath, inheritable: true, access: 'w', offset: 12345678901 },
  { fd: 4, type: 'REG', target: '/tmp/gone.txt', deleted: true, inheritable: false, access: 'rw', offset: 5 },
  {
    fd: 5, type: 'FIFO', target: 'pipe:[4242]', inheritable: true, access: 'r', offset: 0,
    peers: [{ pid: 100, fd: 5, command: 'worker' }, { pid: 101, fd: 5, command: 'worker' }, { pid: 102, fd: 5, command: 'w\x1b[2Jorker' }], peerCount: 1999,
  },
  {
    fd: 6, type: 'SOCK', target: 'tcp 0.0.0.0:8080 (LISTEN)', inheritable: true, access: 'rw', offset: 0,
    socket: { protocol: 'tcp', local: '0.0.0.0:8080', state: 'LISTEN' }, peers: [{ pid: 200, fd: 6, command: 'nginx' }], peerCount: 1,
  },
  // In fdinfo's order, not by number: the table sorts them as lsof does.
  { fd: 7, type: 'eventpoll', target: '[eventpoll]', inheritable: false, access: 'rw', offset: 0, watches: [8, 5, 6] },
  { fd: 8, type: 'userfaultfd', target: '[userfaultfd]', inheritable: undefined, access: 'rw', offset: 0 },
  { fd: 9, type: 'UNKNOWN', target: '', error: 'EACCES' },
  { fd: 1048575, type: 'REG', target: 'short', inheritable: true, access: 'r', offset: 0 },
];
const audit: ProcessAudit = {
  pid: 4242, command: 'server', argv: ['server', '--title', '\x1b]0;pwned\x07', 'x'.repeat(200)], ppid: 1, platform: 'linux', fds: rows,
  errors: ['socket table /proc/4242/net/tcp could not be read: EACCES, a long warning that has to wrap on a narrow terminal'],
};

/** Every line of `text` as a terminal of `width` columns shows it; problems as readable strings. */
function problems(text: string, width: number | undefined): string[] {
  const found: string[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    const parsed = parseLine(line);
    const where = `line ${i + 1} ${JSON.stringify(parsed.visible.slice(0, 50))}`;
    if (width !== undefined && columns(parsed.visible) > width) found.push(`${where}: ${columns(parsed.visible)} columns, wider than ${width}`);
    if (parsed.stray.length > 0) found.push(`${where}: stray escape ${parsed.stray.join(' ')}`);
    if (!isPlain(parsed.open)) found.push(`${where}: attributes still set at its end ${JSON.stringify(parsed.open)}`);
    if (/\x1b|\x07/.test(parsed.visible)) found.push(`${where}: a control character shows`);
  }
  return found;
}

/**
 * The INHERIT and FD cells of every grid line, trimmed; and the whole target of each row, continuation
 * lines joined (TARGET), and its cell's lines as they are, one per line (TARGET_LINES).
 */
function gridColumns(text: string): { head: string[]; rows: Array<Record<string, string>> } | undefined {
  const lines = text.split('\n').map((line) => parseLine(line).visible);
  const headAt = lines.findIndex((line) => gridCells(line)?.[0]?.trim() === 'FD');
  if (headAt === -1) return undefined;
  const head = gridCells(lines[headAt]!)!.map((c) => c.trim());
  const result: Array<Record<string, string>> = [];
  for (const line of lines.slice(headAt + 1)) {
    const cells = gridCells(line);
    if (!cells) continue;
    // Each cell without its padding of one space a side; a wrapped ASCII line fills its cell exactly.
    const named: Record<string, string> = Object.fromEntries(head.map((h, i) => [h, cells[i]!.slice(1, -1)]));
    if (named.FD!.trim() === '') {
      result[result.length - 1]!.TARGET += named.TARGET!;
      result[result.length - 1]!.TARGET_LINES += `\n${named.TARGET!}`;
    } else {
      result.push({ ...named, TARGET_LINES: named.TARGET! });
    }
  }
  for (const row of result) for (const key of Object.keys(row)) row[key] = row[key]!.trimEnd();
  return { head, rows: result };
}

test('every width from 40 to 130, colour on and off: lines fit, short cells whole, escapes balanced, targets complete', (t) => {
  for (const color of [true, false]) {
    for (let width = 40; width <= 130; width++) {
      const style: Style = { color, width };
      const text = renderAuditTable(audit, style);
      t.deepEqual(problems(text, width), [], `width ${width} colour ${color}`);
      const grid = gridColumns(text);
      if (grid) {
        t.true(grid.head.includes('INHERIT') && grid.head.includes('TARGET'), `width ${width}`);
        t.deepEqual(grid.rows.map((r) => r.FD), rows.map((r) => String(r.fd)), `width ${width}: one row per descriptor`);
        t.deepEqual(grid.rows.map((r) => r.INHERIT), ['yes', 'yes', '-', 'yes', 'yes', '-', '?', '?', 'yes'], `width ${width}`);
        // A wide character that does not fit ends a line one column short: the path holds no spaces.
        t.is(grid.rows[1]!.TARGET!.replaceAll(' ', ''), longPath, `width ${width}: the long path whole, in order`);
        // A line of a target breaks after a space (kept, padded like the rest) or a `/`, where one is past its middle.
        t.is(grid.rows[3]!.TARGET!.replaceAll(' ', ''), 'pipe:[4242]<->100/worker:5,101/worker:5,102/w\\x1b[2Jorker:5+1996more', `width ${width}`);
        const held = grid.rows[4]!.TARGET_LINES!.split('\n');
        t.is(held.map((line) => line.trimEnd()).join(' ').replace('/ ', '/'), 'tcp 0.0.0.0:8080 (LISTEN) (also held by 200/nginx:6)', `width ${width}`);
        for (const line of held.slice(0, -1)) t.regex(line, /[ /]$/, `width ${width}: ${JSON.stringify(held)} breaks within a word`);
        if (width >= 90) t.deepEqual(grid.head, ['FD', 'TYPE', 'MODE', 'INHERIT', 'OFFSET', 'TARGET'], `width ${width}: every column`);
      } else {
        // Stacked: the short columns on one line, the target indented below it.
        t.true(width < 60, `width ${width}: a grid was expected`);
        const visible = text.split('\n').map((line) => parseLine(line).visible);
        t.regex(visible.join('\n'), /^FD +TYPE +MODE +INHERIT/m);
        const at = visible.findIndex((line) => /^3 +REG +w +yes/.test(line));
        t.not(at, -1, `width ${width}`);
        let joined = '';
        for (const line of visible.slice(at + 1)) {
          if (!line.startsWith(' ')) break;
          joined += line.trimStart();
        }
        t.is(joined, longPath, `width ${width}: the long path whole`);
      }
    }
  }
});

test('without a terminal: one line per descriptor, no width limit, no colour unless asked', (t) => {
  const text = renderAuditTable(audit, { color: false });
  t.deepEqual(problems(text, undefined), []);
  t.false(text.includes('\x1b'));
  const grid = gridColumns(text)!;
  t.deepEqual(grid.head, ['FD', 'TYPE', 'MODE', 'INHERIT', 'OFFSET', 'TARGET']);
  t.is(text.split('\n').filter((line) => line.startsWith('│')).length, rows.length + 1);
  t.is(grid.rows[5]!.TARGET, '[eventpoll:5,6,8]');
  t.is(grid.rows[4]!.TARGET, 'tcp 0.0.0.0:8080 (LISTEN) (also held by 200/nginx:6)');
  t.is(grid.rows[2]!.TARGET, '/tmp/gone.txt [deleted]');
  t.is(grid.rows[7]!.TARGET, '(error: EACCES)');
});

test('the grid is byte for byte what cli-table3 draws for the same cells', (t) => {
  const cells = [['FD', 'TYPE', 'TARGET'], ['3', 'REG', '/tmp/a'], ['', '', '日本語'], ['12345', 'eventpoll', ''], ['7', 'é', 'x y']];
  const widths = [5, 9, 12];
  const style: Style = { color: false };
  const frame = drawFrame(widths, style);
  const ours = [frame.top, ...cells.map((row) => frameLine(frame, row.map((text) => ({ text, width: columns(text) })))), frame.bottom].join('\n');
  const table = new Table({
    head: cells[0]!, colWidths: widths.map((w) => w + 2), wordWrap: false,
    style: { head: [], border: [], compact: true }, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  table.push(...cells.slice(1));
  t.is(ours, table.toString());
  // With colour, the same text and the box drawn grey.
  const painted = drawFrame(widths, { color: true });
  const line = parseLine(frameLine(painted, cells[1]!.map((text) => ({ text, width: columns(text) }))));
  t.is(line.visible, table.toString().split('\n')[2]!);
  t.true(line.runs.every((run) => (/^[│┌┐└┘─┬┴]+$/.test(run.text) ? run.attributes.fg === '90' : isPlain(run.attributes))));
});

test('headers: counts in agreement, K of N when filtered, kernel threads, thread ids, the --all summary', (t) => {
  const style: Style = { color: false };
  const one = renderAuditTable({ ...audit, argv: ['server'], fds: rows.slice(0, 1), errors: [] }, style).split('\n');
  t.is(one[1], '1 descriptor, 1 inheritable');
  t.is(renderAuditTable({ ...audit, fds: rows.slice(0, 2), total: 9, errors: [] }, style).split('\n')[1], '2 of 9 descriptors shown, 2 inheritable');
  t.is(renderAuditTable({ ...audit, fds: [], total: 1, errors: [] }, style).split('\n')[1], '0 of 1 descriptor shown, 0 inheritable');
  // The soft limit where the probe read one: what the process may open.
  t.is(renderAuditTable({ ...audit, fds: rows.slice(0, 1), limits: { soft: 1024, hard: 4096 }, errors: [] }, style).split('\n')[1], '1 descriptor (limit 1024), 1 inheritable');
  t.is(renderAuditTable({ ...audit, fds: rows.slice(0, 2), total: 9, limits: { soft: 50, hard: null }, errors: [] }, style).split('\n')[1], '2 of 9 descriptors shown (limit 50), 2 inheritable');
  t.is(renderAuditTable({ ...audit, fds: [], limits: { soft: null, hard: null }, errors: [] }, style).split('\n')[1], '0 descriptors (limit unlimited), 0 inheritable');
  const kernel = renderAuditTable({ pid: 2, command: 'kthreadd', argv: [], ppid: 0, platform: 'linux', kernelThread: true, fds: [], errors: [] }, style);
  t.is(kernel, 'pid 2 kthreadd\nkernel thread: it has no descriptor table');
  const thread = renderAuditTable({ ...audit, argv: ['server'], thread: 4250, fds: [], errors: [] }, style).split('\n');
  t.is(thread[1], 'pid 4250 is a thread of this process; threads share its descriptors');
  t.is(renderMachineSummary({ audited: 1, unreadable: 0, vanished: 1, kernelThreads: 0 }, style), '1 process audited, 0 not readable by this user, 1 exited meanwhile');
  t.is(renderMachineSummary({ audited: 2, unreadable: 3, vanished: 0, kernelThreads: 1 }, style),
    '2 processes audited, 3 not readable by this user, 0 exited meanwhile, 1 kernel thread left out (no descriptor table)');
  // The title line is cut to the terminal, its escapes shown, not sent.
  const title = renderAuditTable(audit, { color: false, width: 50 }).split('\n')[0]!;
  t.is(columns(title), 50);
  t.true(title.startsWith('pid 4242 server  server --title \\x1b]0;pwned\\x07'.slice(0, 49)) && title.endsWith('…'));
});

test('wrapSpans: wide characters count two columns; prose breaks between words, names anywhere', (t) => {
  const style: Style = { color: false };
  t.deepEqual(wrapSpans([{ text: '日本語のファイル' }], 5, style), [
    { text: '日本', width: 4 }, { text: '語の', width: 4 }, { text: 'ファ', width: 4 }, { text: 'イル', width: 4 },
  ]);
  t.deepEqual(wrapSpans([{ text: 'one two three four' }], 9, style, true).map((l) => l.text), ['one two', 'three', 'four']);
  t.deepEqual(wrapSpans([{ text: 'one two three four' }], 9, style).map((l) => l.text), ['one two t', 'hree four']);
  // Targets: after the last space, else the last `/`, past the line's middle; nothing dropped.
  const target = (text: string, width: number) => wrapSpans([{ text }], width, style, 'separators').map((l) => l.text);
  t.deepEqual(target('tcp 0.0.0.0:8080 (LISTEN) (also held by 200/nginx:6)', 24), ['tcp 0.0.0.0:8080 ', '(LISTEN) (also held by ', '200/nginx:6)']);
  t.deepEqual(target('/srv/www/logs/application.log', 16), ['/srv/www/logs/', 'application.log']);
  t.deepEqual(target('/srv/日本語/ファイル名/access.log', 16), ['/srv/日本語/', 'ファイル名/', 'access.log']);
  t.deepEqual(target('/x/averyveryverylongname', 10), ['/x/averyve', 'ryverylong', 'name'], 'no break point past the middle: anywhere');
  // A span's paint is opened and closed on each line it reaches.
  const painted = wrapSpans([{ text: 'ab' }, { text: 'cdef', paint: 'yellow' }], 3, { color: true }).map((l) => l.text);
  t.deepEqual(painted, ['ab\x1b[33mc\x1b[39m', '\x1b[33mdef\x1b[39m']);
});
