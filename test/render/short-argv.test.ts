/** shortArgv: a command line for one report line, its first line only and a bounded width, never raw. */
import test from 'ava';
import { shortArgv } from '../../src/render/text.js';

test('a command line that fits is quoteArgv\'s, whole', (t) => {
  t.is(shortArgv(['sh', '-c', 'exec 7>log; true']), "sh -c 'exec 7>log; true'");
});

test('a multi-line argument is cut after its first non-empty line, its quote left open, and the rest dropped', (t) => {
  t.is(shortArgv(['python3', '-c', 'import os\nprint(1)', 'arg']), "python3 -c 'import os…");
  t.is(shortArgv(['python3', '-c', 'pass\nx']), 'python3 -c pass…');
  // A script that starts with blank lines is named by its first line of code.
  t.is(shortArgv(['python3', '-c', '\nx']), 'python3 -c x…');
  t.is(shortArgv(['python3', '-c', '\n  \n    import os, sys\nx']), "python3 -c 'import os, sys…");
  t.is(shortArgv(['python3', '-c', '\n \n']), "python3 -c '…");
  t.is(shortArgv(['sh', '-c', 'echo \u001b[2J\nmore']), "sh -c $'echo \\x1b[2J…");
});

test('a long command line is cut to the width, by characters, with an ellipsis', (t) => {
  const cut = shortArgv(['echo', 'y'.repeat(200)], 40);
  t.is(cut, `echo ${'y'.repeat(34)}…`);
  t.is(Array.from(cut).length, 40);
  const emoji = shortArgv(['echo', '😀'.repeat(50)], 10);
  t.false(/[\ud800-\udbff](?![\udc00-\udfff])/.test(emoji), 'no half of a surrogate pair');
});
