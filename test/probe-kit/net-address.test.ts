/** One IPv6 formatter for every probe: RFC 5952's canonical text. */
import test from 'ava';
import { formatIpv6 } from '../../src/probe-kit/net-address.js';

const bytes = (hex: string): number[] => hex.match(/../g)!.map((b) => Number.parseInt(b, 16));

test('RFC 5952: the longest run of zeros is compressed, the first of equal runs, never a single zero group', (t) => {
  t.is(formatIpv6(bytes('00000000000000000000000000000001')), '::1');
  t.is(formatIpv6(bytes('00000000000000000000000000000000')), '::');
  // The first run (one group) is shorter than the second (three): the second is compressed.
  t.is(formatIpv6(bytes('20010db8000000010000000000000001')), '2001:db8:0:1::1');
  t.is(formatIpv6(bytes('20010db8000000000001000000000001')), '2001:db8::1:0:0:1', 'equal runs: the first');
  t.is(formatIpv6(bytes('20010db8000100010001000100010001')), '2001:db8:1:1:1:1:1:1');
  t.is(formatIpv6(bytes('20010db8000000010001000100010001')), '2001:db8:0:1:1:1:1:1', 'one zero group stays');
  t.is(formatIpv6(bytes('fe800000000000000000000000000abc')), 'fe80::abc');
  t.is(formatIpv6(bytes('00000000000000000000ffffc0a80001')), '::ffff:192.168.0.1');
  t.throws(() => formatIpv6([1, 2, 3]), { instanceOf: RangeError });
});
