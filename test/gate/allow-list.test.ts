/** The gate's allow rules: numbers, types, path globs, prefixes. */
import test from 'ava';
import { globToRegExp, parseAllow, allowedBy } from '../../src/gate/allow-list.js';
import type { Descriptor } from '../../src/index.js';

const log: Descriptor = { fd: 5, type: 'REG', target: '/var/log/app/main.log' };

test('a number is a descriptor, a word a type, anything with / * ? a path glob', (t) => {
  t.deepEqual(parseAllow(['5', 'SOCK', '/tmp/*.log']).map((r) => r.kind), ['fd', 'type', 'path']);
  t.deepEqual(parseAllow(['fd:7', 'type:memfd', 'path:x']).map((r) => r.kind), ['fd', 'type', 'path']);
  t.is(allowedBy(parseAllow(['5']), log)?.spec, '5');
  t.is(allowedBy(parseAllow(['reg']), log)?.spec, 'reg');
  t.is(allowedBy(parseAllow(['6', 'SOCK', '/tmp/*']), log), undefined);
  t.throws(() => parseAllow(['fd:x']), { code: 'EUSAGE' });
  t.throws(() => parseAllow(['type:']), { code: 'EUSAGE' });
});

test('globs: * stays in a directory, ** crosses them, ? is one character, the rest is literal', (t) => {
  t.true(globToRegExp('/var/log/*/*.log').test(log.target));
  t.false(globToRegExp('/var/log/*.log').test(log.target));
  t.true(globToRegExp('/var/**/*.log').test(log.target));
  t.true(globToRegExp('**/main.log').test(log.target));
  t.true(globToRegExp('/var/log/app/**').test(log.target));
  t.true(globToRegExp('/var/log/app/ma?n.log').test(log.target));
  t.false(globToRegExp('/var/log/app/main.lo').test(log.target));
  t.false(globToRegExp('/var/log/app/main+log').test('/var/log/app/mainnlog'));
  t.true(globToRegExp('pipe:[*]').test('pipe:[1234]'));
});

test('globs (picomatch): braces, ranges and classes', (t) => {
  const lock = '/tmp/build.lock';
  t.true(globToRegExp('/tmp/*.{log,lock}').test(lock));
  t.true(globToRegExp('/tmp/*.{log,lock}').test('/tmp/x.log'));
  t.false(globToRegExp('/tmp/*.{log,lock}').test('/tmp/x.txt'));
  t.true(globToRegExp('/tmp/run-{1..3}.pid').test('/tmp/run-2.pid'));
  t.false(globToRegExp('/tmp/run-{1..3}.pid').test('/tmp/run-4.pid'));
  t.true(globToRegExp('/tmp/[bc]uild.lock').test(lock));
  t.false(globToRegExp('/tmp/[ac]uild.lock').test(lock));
  t.true(globToRegExp('/tmp/[a-c]uild.lock').test(lock));
  t.true(globToRegExp('/tmp/[!ac]uild.lock').test(lock));
  t.false(globToRegExp('/tmp/[!b]uild.lock').test(lock));
  t.false(globToRegExp('/tmp/x[^a]y').test('/tmp/x/y'), 'a class never matches the separator');
  t.true(globToRegExp('**/*.{log,lock}').test('/var/lib/app/db.lock'));
  // The kind is told from the spec too: braces and brackets make a path glob.
  t.deepEqual(parseAllow(['x.{log,lock}', 'x[12]']).map((r) => r.kind), ['path', 'path']);
});

test('globs: the documented ** crosses directories even inside a segment; dotfiles, !, () and \\ behave', (t) => {
  t.true(globToRegExp('/var/**.log').test(log.target));
  t.true(globToRegExp('/var/**.log').test('/var/x.log'));
  t.false(globToRegExp('/var/**.log').test('/var/log/app/main.txt'));
  t.true(globToRegExp('/var/log/a**/main.log').test(log.target));
  t.true(globToRegExp('/var/***/main.log').test(log.target));
  t.true(globToRegExp('/var/log/app/**/main.log').test(log.target), '**/ also matches no directory');
  t.true(globToRegExp('/home/*/.cache/*').test('/home/me/.cache/.lock'), 'dotfiles match like other files');
  t.true(globToRegExp('/tmp/!keep').test('/tmp/!keep'));
  t.true(globToRegExp('/tmp/x (deleted)').test('/tmp/x (deleted)'));
  t.false(globToRegExp('/tmp/x (deleted)').test('/tmp/x deleted'));
  t.true(globToRegExp('/tmp/@(a)+(b)').test('/tmp/@(a)+(b)'));
  t.true(globToRegExp('/tmp/a|b').test('/tmp/a|b'));
  t.false(globToRegExp('/tmp/a|b').test('b'));
  t.true(globToRegExp('/tmp/{a,b}(c)').test('/tmp/a(c)'));
  t.true(globToRegExp('/tmp/a\\*').test('/tmp/a*'));
  t.false(globToRegExp('/tmp/a\\*').test('/tmp/ab'));
  t.true(globToRegExp('socket:[*]').test('socket:[42]'));
  t.true(globToRegExp('tcp 127.0.0.1:*').test('tcp 127.0.0.1:8080 (LISTEN)'));
});

test('exe: and program: match the receiving program by its executable or argv[0]; without a / by its name', (t) => {
  const make = { exe: '/usr/bin/make', argv: ['make', '-C', 'sub'] };
  const shim = { exe: '/root/.pyenv/versions/3.11.7/bin/python3.11', argv: ['/root/.pyenv/shims/python3', 'x.py'] };
  t.deepEqual(parseAllow(['exe:make', 'program:**/python3*']).map((r) => r.kind), ['program', 'program']);
  t.is(allowedBy(parseAllow(['exe:/usr/bin/make']), log, make)?.spec, 'exe:/usr/bin/make');
  t.is(allowedBy(parseAllow(['exe:make']), log, make)?.spec, 'exe:make');
  t.is(allowedBy(parseAllow(['exe:/usr/*/ma?e']), log, make)?.spec, 'exe:/usr/*/ma?e');
  t.is(allowedBy(parseAllow(['program:**/python3*']), log, shim)?.spec, 'program:**/python3*');
  t.is(allowedBy(parseAllow(['program:python3.1?']), log, shim)?.spec, 'program:python3.1?');
  t.is(allowedBy(parseAllow(['exe:make']), log, shim), undefined);
  t.is(allowedBy(parseAllow(['exe:/bin/make']), log, make), undefined);
  t.is(allowedBy(parseAllow(['exe:make']), log), undefined, 'no receiver, no match');
  t.throws(() => parseAllow(['exe:']), { code: 'EUSAGE' });
});
