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

test('too wide, a path loses the middle of its folder first and keeps its name; the longest path goes first', (t) => {
  const script = '/home/someone/projects/service/test/fixtures/leak-log-to-grandchild.py';
  const argv = ['/usr/bin/python3', script, '/tmp/fdscan-test-x1', 'leak'];
  t.is(shortArgv(argv, 200), `/usr/bin/python3 ${script} /tmp/fdscan-test-x1 leak`, 'fits: whole');
  t.is(shortArgv(argv, 80), '/usr/bin/python3 /…/fixtures/leak-log-to-grandchild.py /tmp/fdscan-test-x1 leak', 'the longest form that fits');
  t.is(shortArgv(argv, 70), '/usr/bin/python3 /…/leak-log-to-grandchild.py /tmp/fdscan-test-x1 leak');
  // Narrower than the script's shortest form: the other paths give up their middle, then the end is cut.
  t.is(shortArgv(argv, 56), '/…/python3 /…/leak-log-to-grandchild.py /…/fdscan-test-…');
  t.is(shortArgv(argv, 40), '/…/python3 /…/leak-log-to-grandchild.py…');
  for (const width of [30, 40, 56, 70, 80]) t.true(Array.from(shortArgv(argv, width)).length <= width);
});

test('a path keeps its folder when shortening it would show nothing more: what follows is cut anyway', (t) => {
  t.is(shortArgv(['/bin/echo', 'y'.repeat(400)], 20), `/bin/echo ${'y'.repeat(9)}…`);
  t.is(shortArgv(['/usr/local/bin/tool', '--data', '/srv/data/in', 'x'.repeat(100)], 50), `/usr/local/bin/tool --data /srv/data/in ${'x'.repeat(9)}…`);
  // Only as much as brings the last path's name into view.
  t.is(shortArgv(['/usr/local/bin/tool', '/srv/a/very/long/folder/of/inputs/in.csv', 'x'.repeat(100)], 50), '/usr/local/bin/tool /srv/a/very/…/inputs/in.csv x…');
});

test('a quoted word is not taken for a path: a shell script keeps its slashes and is cut at the end', (t) => {
  t.is(shortArgv(['sh', '-c', 'exec 7>/var/log/app/service.log; exec /usr/local/bin/service --flag'], 40), "sh -c 'exec 7>/var/log/app/service.log;…");
  t.is(shortArgv(['python3', '/srv/app/long/folder/name/main.py', '-c', 'x\ny'], 30), "python3 /…/name/main.py -c x…");
});
