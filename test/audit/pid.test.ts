/**
 * One rule for a process id, at the command line and in the library: a pid_t, 1 to 2^31-1, and one
 * message for anything else.
 */
import test from 'ava';
import { UsageError, listDescriptors, countDescriptors } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';

const message = (shown: string): string => `not a process id: '${shown}' (expected a positive number such as 1234)`;

test('the library takes 1 to 2^31-1 and refuses 2^31 with the command line\'s message', (t) => {
  for (const pid of [0, -1, 1.5, 2 ** 31, Number.NaN]) {
    t.throws(() => listDescriptors(pid), { instanceOf: UsageError, message: message(String(pid)) }, String(pid));
  }
  t.throws(() => countDescriptors('42' as never), { instanceOf: UsageError, message: message('42') });
  // The largest pid_t is a process id: what fails is finding it, not the argument.
  const largest = t.throws(() => listDescriptors(2 ** 31 - 1));
  t.is(largest?.name, 'NoSuchProcess');
});

test('every command that takes a pid refuses 2^31 and takes 2^31-1 as a pid', (t) => {
  for (const args of [['2147483648'], ['watch', '2147483648'], ['top', '2147483648'], ['inherit-diff', '1', '2147483648']]) {
    const result = runCli(args);
    t.is(result.stderr, `fdscan: ${message('2147483648')} (see fdscan --help)\n`, args.join(' '));
    t.is(result.code, 2, args.join(' '));
  }
  const largest = runCli(['2147483647']);
  t.is(largest.code, 2);
  t.notRegex(largest.stderr, /not a process id/);
});
