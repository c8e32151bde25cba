/**
 * `fdscan top` with command names of wide characters (processes renamed through /proc/self/comm):
 * at a fixed COLUMNS its columns line up by display width (a CJK character or an emoji takes two
 * columns), also when a narrow width leaves columns out, and COMMAND is as wide as its widest name.
 */
import test from 'ava';
import { runCli } from '../helpers/cli.js';
import type { RunningFixture } from '../helpers/fixture.js';
import { startNearLimit, type NearLimit } from '../helpers/near-limit.js';
import { columns } from '../helpers/terminal-text.js';

const linux = process.platform === 'linux' ? test.serial : test.skip;
/** comm holds 15 bytes: five CJK characters (10 columns), emoji around ASCII (7), plain ASCII (5). */
const NAMES = ['日本語表示', '🔥fd🔥x', 'plain'];
const GAP = 2;
let fixtures: Array<RunningFixture<NearLimit>> = [];

test.before(async () => {
  if (process.platform !== 'linux') return;
  fixtures = await Promise.all(NAMES.map((name, i) => startNearLimit(50 * (i + 1), 20 + i, name)));
});
test.after.always(async () => Promise.all(fixtures.map((f) => f.stop())));

/** Each word of a line with the display columns [start, end) it takes. */
function words(line: string): Array<{ text: string; start: number; end: number }> {
  return [...line.matchAll(/\S+/g)].map((match) => {
    const start = columns(line.slice(0, match.index));
    return { text: match[0], start, end: start + columns(match[0]) };
  });
}

for (const width of [100, 50, 40]) {
  linux(`COLUMNS=${width}: every cell lines up under its header by display width; COMMAND as wide as the widest name`, (t) => {
    t.deepEqual(fixtures.map((f) => f.manifest.comm), NAMES, 'the processes renamed themselves');
    const result = runCli(['top', ...fixtures.map((f) => String(f.pid))], { env: { COLUMNS: String(width) } });
    t.is(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    const headAt = lines.findIndex((line) => /^\s*PID\s/.test(line));
    t.not(headAt, -1, result.stdout);
    const head = words(lines[headAt]!);
    const rows = lines.slice(headAt + 1);
    t.is(rows.length, NAMES.length, result.stdout);
    const command = head.findIndex((w) => w.text === 'COMMAND');
    for (const line of rows) {
      t.true(columns(line) <= width, `${columns(line)} columns: ${line}`);
      const cells = words(line);
      t.is(cells.length, head.length, line);
      cells.forEach((cell, i) => {
        // Names (USER, COMMAND) start under their header, numbers end under it.
        if (['USER', 'COMMAND'].includes(head[i]!.text)) t.is(cell.start, head[i]!.start, `${head[i]!.text} of ${line}`);
        else t.is(cell.end, head[i]!.end, `${head[i]!.text} of ${line}`);
      });
      t.true(NAMES.includes(cells[command]!.text), line);
    }
    // The column after COMMAND starts GAP columns after the widest name (10), whatever was left out.
    // (A right-aligned column ends under its header, and is as wide as its widest cell.)
    const nextWidth = Math.max(...[lines[headAt]!, ...rows].map((line) => words(line)[command + 1]!).map((cell) => cell.end - cell.start));
    t.is(head[command + 1]!.end - nextWidth, head[command]!.start + 10 + GAP, lines[headAt]!);
    // Columns are left out exactly when the whole table is wider than the terminal (how wide depends
    // on the pids' digits: 3 in a fresh CI machine, 5-7 here).
    const whole = runCli(['top', ...fixtures.map((f) => String(f.pid))], { env: { COLUMNS: '200' } }).stdout.trimEnd().split('\n');
    const wholeWidth = Math.max(...whole.slice(whole.findIndex((line) => /^\s*PID\s/.test(line))).map(columns));
    if (wholeWidth > width) t.regex(result.stdout, /left out: too narrow/);
    else t.notRegex(result.stdout, /left out/);
  });
}
