/** `--listen HOST:PORT`: the forms taken, and everything else refused before anything listens. */
import test from 'ava';
import { UsageError } from '../../src/errors.js';
import { formatListenAddress, parseListenAddress } from '../../src/metrics/listen-address.js';

test('IPv4, bracketed IPv6 and host names, with a port from 0 to 65535', (t) => {
  t.deepEqual(parseListenAddress('127.0.0.1:9256'), { host: '127.0.0.1', port: 9256 });
  t.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
  t.deepEqual(parseListenAddress('localhost:65535'), { host: 'localhost', port: 65535 });
  t.deepEqual(parseListenAddress('[::]:9256'), { host: '::', port: 9256 });
  t.is(formatListenAddress({ host: '::1', port: 80 }), '[::1]:80');
  t.is(formatListenAddress({ host: '10.0.0.1', port: 80 }), '10.0.0.1:80');
});

test('anything else is a UsageError that shows the expected form', (t) => {
  for (const text of ['', '9256', ':9256', '127.0.0.1', '127.0.0.1:', '127.0.0.1:65536', '::1:9256', '[::1]', '[::1', '[127.0.0.1]:80',
    '1.2.3:80', '999.1.1.1:80', 'a b:80', '-host:80', 'host_name:80', 'localhost:+80', 'localhost:0x50', `${'a'.repeat(64)}:80`]) {
    const error = t.throws(() => parseListenAddress(text), { instanceOf: UsageError }, text);
    t.regex(error!.message, /^--listen takes HOST:PORT such as 127\.0\.0\.1:9256 or \[::1\]:9256/);
  }
});
