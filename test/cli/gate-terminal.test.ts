/**
 * The gate's text report in a real terminal (tmux panes of 40 and 80 columns, colour on): no line
 * wider than the pane, no escape shown as text, and the report's words all there.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fdscanBin, fixturesDir } from '../helpers/fixture.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { inPane, tmuxMissing } from '../helpers/tmux-pane.js';
import { columns, parseLine, type Attributes } from '../helpers/terminal-text.js';

const terminalTest = tmuxMissing ? test.skip : test.serial;

/** The Python interpreter itself, not pyenv's shell shim. */
const python = process.platform === 'linux'
  ? spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim()
  : 'python3';

for (const width of [40, 80]) {
  terminalTest(`gate text at ${width} columns: every line fits the pane, no escape shown, every word there${tmuxMissing ? ` (skipped: ${tmuxMissing})` : ''}`, async (t) => {
    await withTempDir('fdscan-gate-terminal', async (dir) => {
      const command = [process.execPath, fdscanBin, 'gate', '--', python, join(fixturesDir, 'leak-pipes.py'), dir, '3', '2', '/bin/true', '/bin/false'];
      const shell = `cd / && env -u NO_COLOR -u COLUMNS FORCE_COLOR=1 TERM=xterm-256color ${command.map((a) => `'${a}'`).join(' ')}`;
      const screen = (await inPane(width, shell)).replace(/\n+$/, '').split('\n');
      let state: Attributes = { bold: false, dim: false };
      const visible: string[] = [];
      for (const line of screen) {
        // tmux carries colours from line to line in what it captures: parse it as one stream.
        const parsed = parseLine(line, state);
        state = parsed.open;
        t.true(columns(parsed.visible) <= width, `wider than ${width} columns: ${JSON.stringify(parsed.visible)}`);
        t.notRegex(parsed.visible, /\x1b|\[\d+(;\d+)*m/, `an escape shows: ${JSON.stringify(line)}`);
        visible.push(parsed.visible);
      }
      const text = visible.map((l) => l.trim()).join(' ');
      t.regex(text, /fdscan gate: 5 findings \(/);
      t.regex(text, /leak {2}3 FIFO descriptors: fd \d+ FIFO pipe:\[\d+\]/);
      t.regex(text, /leak {2}2 REG descriptors:/);
      t.is(text.match(/fix: Python: os\.set_inheritable/g)?.length, 2, text);
    });
  });
}
