/** Colour on a terminal only, NO_COLOR and TERM=dumb off, FORCE_COLOR on; the same bytes on every Node version. */
import test from 'ava';
import { MIN_WIDTH, paint, styleFor, type Style } from '../../src/render/style.js';

const tty = { isTTY: true, columns: 120 } as NodeJS.WriteStream;
const pipe = { isTTY: false } as unknown as NodeJS.WriteStream;

test('styleFor: the documented rule, case by case', (t) => {
  const cases: Array<[NodeJS.WriteStream, NodeJS.ProcessEnv, boolean]> = [
    [tty, {}, true], // even without TERM (stream.hasColors() says no there)
    [tty, { TERM: 'xterm' }, true],
    [tty, { TERM: 'dumb' }, false],
    [tty, { NO_COLOR: '1' }, false],
    [tty, { NO_COLOR: '' }, true], // an empty NO_COLOR does not count, as no-color.org says
    [tty, { FORCE_COLOR: '0' }, true],
    [pipe, {}, false],
    [pipe, { FORCE_COLOR: '1' }, true],
    [pipe, { FORCE_COLOR: '' }, true],
    [pipe, { FORCE_COLOR: 'yes' }, true],
    [pipe, { FORCE_COLOR: '0' }, false],
    [pipe, { FORCE_COLOR: 'false' }, false],
    [pipe, { FORCE_COLOR: '1', NO_COLOR: '1', TERM: 'dumb' }, true],
  ];
  for (const [stream, env, color] of cases) t.is(styleFor(stream, env).color, color, `${stream.isTTY ? 'tty' : 'pipe'} ${JSON.stringify(env)}`);
  t.is(styleFor(tty, {}).width, 120);
  t.is(styleFor(pipe, { COLUMNS: '80' }).width, 80);
  t.is(styleFor(pipe, {}).width, undefined);
  // An unusable width, from COLUMNS or a terminal, is one rule: not a whole number above 0 is
  // unknown, a smaller one than MIN_WIDTH is raised to it.
  for (const columns of ['-5', '0.5', '0', 'abc', '']) t.is(styleFor(pipe, { COLUMNS: columns }).width, undefined, `COLUMNS=${columns}`);
  t.is(styleFor(pipe, { COLUMNS: '1' }).width, MIN_WIDTH);
  t.is(styleFor({ isTTY: true, columns: 3 } as NodeJS.WriteStream, {}).width, MIN_WIDTH);
});

test('paint: the same ANSI codes as before styleText, nested ones too, and none when colour is off', (t) => {
  const on: Style = { color: true };
  t.is(paint(on, 'bold', 'x'), '\u001b[1mx\u001b[22m');
  t.is(paint(on, 'dim', 'x'), '\u001b[2mx\u001b[22m');
  t.is(paint(on, 'yellow', 'x'), '\u001b[33mx\u001b[39m');
  t.is(paint(on, 'red', 'x'), '\u001b[31mx\u001b[39m');
  t.is(paint(on, 'green', 'x'), '\u001b[32mx\u001b[39m');
  t.is(paint(on, 'cyan', 'x'), '\u001b[36mx\u001b[39m');
  // The gate's header nests a colour in bold.
  t.is(paint(on, 'bold', `gate: ${paint(on, 'green', 'passed')}`), '\u001b[1mgate: \u001b[32mpassed\u001b[39m\u001b[22m');
  // Whatever process.stdout is (a pipe under ava): the Style decides, not styleText.
  t.is(paint({ color: false }, 'red', 'x'), 'x');
});
