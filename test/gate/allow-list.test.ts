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
