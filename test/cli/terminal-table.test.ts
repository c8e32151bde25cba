/**
 * The audit table in a real terminal: tmux panes of 40, 60, 80 and 120 columns, colour on, a
 * process holding a file at a long path (with wide characters) beside short cells. What the pane
 * shows (capture-pane -e: with its colours; -J: wrapped lines joined, so an overflowing line shows
 * as one longer than the pane) must have no line wider than the pane, no short cell split, no
 * colour on what it does not belong to, no escape left visible, and the long path whole.
 */
import test from 'ava';
import { fdscanBin, startFixture, type RunningFixture } from '../helpers/fixture.js';
import { inPane, tmuxMissing } from '../helpers/tmux-pane.js';
import { columns, gridCells, parseLine, type Attributes } from '../helpers/terminal-text.js';

const terminalTest = tmuxMissing ? test.skip : test.serial;

let fixture: RunningFixture<{ pid: number; fd: number; path: string }>;
test.before(async () => {
  if (!tmuxMissing) fixture = await startFixture('hold-long-path.py');
});
test.after.always(async () => fixture?.stop());

const BOX = /^[│┌┐└┘─┬┴]+$/;

for (const width of [40, 60, 80, 120]) {
  terminalTest(`${width} columns, colour on: every line fits, short cells whole, colours where they belong, the long path whole${tmuxMissing ? ` (skipped: ${tmuxMissing})` : ''}`, async (t) => {
    const shell = `cd / && env -u NO_COLOR -u COLUMNS FORCE_COLOR=1 TERM=xterm-256color '${process.execPath}' '${fdscanBin}' ${fixture.pid}`;
    const screen = (await inPane(width, shell)).replace(/\n+$/, '').split('\n');
    let state: Attributes = { bold: false, dim: false };
    const visible: string[] = [];
    for (const [i, line] of screen.entries()) {
      // tmux carries colours from line to line in what it captures: parse it as one stream.
      const parsed = parseLine(line, state);
      state = parsed.open;
      visible.push(parsed.visible);
      t.true(columns(parsed.visible) <= width, `line ${i + 1} is ${columns(parsed.visible)} columns: ${parsed.visible}`);
      t.notRegex(parsed.visible, /\x1b|\[\d+(;\d+)*m/, `line ${i + 1}: an escape shows`);
      for (const run of parsed.runs) {
        // The count line (`N descriptors (limit S), M inheritable`) may break inside `M inheritable` at 40 columns.
        if (run.attributes.fg === '33') t.regex(run.text, /^(yes|\d+ inheritable|\d+|inheritable)$/, `line ${i + 1}: yellow on ${JSON.stringify(run.text)}`);
        if (run.attributes.fg === '90') t.regex(run.text, BOX, `line ${i + 1}: grey on ${JSON.stringify(run.text)}`);
        if (BOX.test(run.text)) t.is(run.attributes.fg, '90', `line ${i + 1}: a box not grey`);
      }
    }
    t.regex(visible[0]!, new RegExp(`^pid ${fixture.pid} python3`));
    const headAt = visible.findIndex((line) => gridCells(line)?.[0]?.trim() === 'FD');
    if (width === 40) {
      // Too narrow for a grid: the short columns on a line, the target below.
      t.is(headAt, -1);
      const at = visible.findIndex((line) => new RegExp(`^${fixture.manifest.fd} +REG +w +yes\\b`).test(line));
      t.not(at, -1, visible.join('\n'));
      let path = '';
      for (const line of visible.slice(at + 1)) {
        if (!line.startsWith(' ')) break;
        path += line.trim();
      }
      t.is(path, fixture.manifest.path);
      return;
    }
    t.not(headAt, -1, visible.join('\n'));
    const head = gridCells(visible[headAt]!)!.map((c) => c.trim());
    t.deepEqual(head, width >= 80 ? ['FD', 'TYPE', 'MODE', 'INHERIT', 'OFFSET', 'TARGET'] : ['FD', 'TYPE', 'INHERIT', 'TARGET']);
    let path = '';
    let collecting = false;
    let fds = 0;
    for (const line of visible.slice(headAt + 1)) {
      const cells = gridCells(line);
      if (!cells) continue;
      const cell = (name: string): string => cells[head.indexOf(name)]!.trim();
      t.regex(cell('FD'), /^(\d+)?$/, line);
      t.regex(cell('INHERIT'), /^(yes|-)?$/, `a split INHERIT cell: ${line}`);
      t.regex(cell('TYPE'), /^(REG|CHR|FIFO|SOCK)?$/, `a split TYPE cell: ${line}`);
      if (cell('FD') !== '') {
        fds++;
        collecting = cell('FD') === String(fixture.manifest.fd);
      }
      // The path has no spaces: the trimmed cells of its lines, joined, are the path.
      if (collecting) path += cell('TARGET');
    }
    t.true(fds >= 4, 'a row per descriptor');
    t.is(path, fixture.manifest.path, 'the long path, whole and in order');
  });
}
