/**
 * `top` and `watch` in a real terminal (tmux panes): `top` at 40 and 80 columns, once and redrawn in
 * place, has no line wider than the pane (capture-pane -J joins a wrapped line, so an overflow shows
 * as a longer line); after Ctrl-C, `watch`'s summary and what runs after `top` start on a line of
 * their own instead of after the `^C` the terminal echoed.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fdscanBin } from '../helpers/fixture.js';
import { startNearLimit } from '../helpers/near-limit.js';
import { columns, parseLine, type Attributes } from '../helpers/terminal-text.js';

const tmuxMissing = process.platform !== 'linux' ? 'Linux only' : spawnSync('tmux', ['-V']).status === 0 ? undefined : 'tmux is not installed (.ci/run installs it)';
const terminalTest = tmuxMissing ? test.skip : test.serial;
const skipped = tmuxMissing ? ` (skipped: ${tmuxMissing})` : '';
const DONE = '__fdscan_done__';
const fdscan = `'${process.execPath}' '${fdscanBin}'`;
const colour = 'env -u NO_COLOR -u COLUMNS FORCE_COLOR=1 TERM=xterm-256color';

/**
 * A detached tmux pane of `width` columns running `command` under bash, then printing DONE (no
 * newline after it: a full pane would scroll). The marker is not spelled out in bash's command line:
 * `watch $$` shows that line, and a marker in it was taken for the end before the summary came.
 */
class Pane {
  readonly socket = `fdscan-test-${process.pid}-${randomBytes(3).toString('hex')}`;

  constructor(width: number, command: string, height = 60) {
    const started = this.tmux('new-session', '-d', '-x', String(width), '-y', String(height), '-s', 'pane', 'bash', '--norc', '--noprofile', '-c', `${command}; printf '${DONE.replace('done', '%s')}' done; sleep 120`);
    if (started.status !== 0) throw new Error(`tmux new-session: ${started.stderr}`);
  }

  tmux(...args: string[]) {
    return spawnSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }

  /** What the pane shows, colours kept, wrapped lines joined. */
  shown(): string {
    return this.tmux('capture-pane', '-p', '-e', '-J', '-t', 'pane').stdout;
  }

  /** What the pane shows once `seen` matches it (polled), or an error naming what it showed. */
  async until(seen: RegExp, what: string): Promise<string> {
    for (let waited = 0; waited < 60_000; waited += 100) {
      const shown = this.shown();
      if (seen.test(shown)) return shown;
      await sleep(100);
    }
    throw new Error(`${what}: not seen in the pane: ${this.shown()}`);
  }

  close(): void {
    this.tmux('kill-server');
  }
}

/** The visible text of each line of a capture, colours parsed as one stream (tmux carries them across lines). */
function visibleLines(capture: string): string[] {
  let state: Attributes = { bold: false, dim: false };
  return capture.replace(/\n+$/, '').split('\n').map((line) => {
    const parsed = parseLine(line, state);
    state = parsed.open;
    return parsed.visible;
  });
}

for (const width of [40, 80]) {
  terminalTest(`top at ${width} columns: no line wider than the pane, once and redrawn in place${skipped}`, async (t) => {
    // A process close to its limit, with a command name of comm's full 15 characters.
    const fixture = await startNearLimit(50, 45, `fdt${randomBytes(6).toString('hex')}`);
    try {
      // The machine's first 30, whatever runs beside the test; then the fixture's own row, which
      // other processes at 90% of their limit could keep out of those 30.
      const once = new Pane(width, `${colour} ${fdscan} top -n 30; ${colour} ${fdscan} top ${fixture.pid}`, 100);
      try {
        const lines = visibleLines((await once.until(new RegExp(DONE), 'top')).split(DONE)[0]!);
        t.true(lines.some((line) => line.includes(String(fixture.pid))), lines.join('\n'));
        for (const [i, line] of lines.entries()) t.true(columns(line) <= width, `line ${i + 1} is ${columns(line)} columns: ${line}`);
      } finally {
        once.close();
      }
      const redrawn = new Pane(width, `${colour} ${fdscan} top --interval 200ms --count 3`, 12);
      try {
        const lines = visibleLines((await redrawn.until(new RegExp(DONE), 'top --interval')).split(DONE)[0]!);
        t.regex(lines[0]!, /^fdscan top: /, 'the redrawn table has not scrolled its first line away');
        t.true(lines.some((line) => /\bPID\b/.test(line)), lines.join('\n'));
        for (const [i, line] of lines.entries()) t.true(columns(line) <= width, `line ${i + 1} is ${columns(line)} columns: ${line}`);
      } finally {
        redrawn.close();
      }
    } finally {
      await fixture.stop();
    }
  });
}

terminalTest(`watch ended by Ctrl-C: the summary starts on the line after the ^C${skipped}`, async (t) => {
  const pane = new Pane(100, `${fdscan} watch $$ --interval 100ms`);
  try {
    await pane.until(/^sample 1 /m, 'the second sample');
    pane.tmux('send-keys', '-t', 'pane', 'C-c');
    const lines = visibleLines(await pane.until(new RegExp(DONE), 'the summary'));
    const at = lines.findIndex((line) => line.includes('summary for pid'));
    t.not(at, -1, lines.join('\n'));
    t.regex(lines[at]!, /^summary for pid \d+ \(\d+ samples, interrupted\)/, lines.join('\n'));
    t.is(lines[at - 1], '^C', lines.join('\n'));
  } finally {
    pane.close();
  }
});

terminalTest(`top --interval ended by Ctrl-C: what runs next starts on the line after the ^C${skipped}`, async (t) => {
  const pane = new Pane(100, `${fdscan} top --interval 100ms -n 3`, 20);
  try {
    await pane.until(/GROWTH/, 'a reading');
    pane.tmux('send-keys', '-t', 'pane', 'C-c');
    const lines = visibleLines(await pane.until(new RegExp(DONE), 'the end of top'));
    // What runs next starts a line of its own (before, it was glued: `^C__fdscan_done__`). The echoed
    // ^C itself may be gone: a redraw already under way when the key came clears the screen over it.
    const at = lines.indexOf(DONE);
    t.not(at, -1, lines.join('\n'));
    t.true(['^C', ''].includes(lines[at - 1]!), lines.join('\n'));
    t.false(lines.some((line) => /\^C\S/.test(line)), lines.join('\n'));
  } finally {
    pane.close();
  }
});
