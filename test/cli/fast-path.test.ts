/** The yargs-free fast path parses the simple audit forms exactly as yargs does, and only those. */
import test, { type ExecutionContext } from 'ava';
import yargs from 'yargs';
import { auditCommand, type AuditArgs } from '../../src/cli/audit-command.js';
import { simpleAuditArgs } from '../../src/cli/fast-path.js';

/** What the audit handler would receive from yargs for `args`. */
function viaYargs(args: string[]): AuditArgs {
  let received: AuditArgs | undefined;
  void yargs(args)
    .command({ ...auditCommand, handler: (argv: AuditArgs) => { received = argv; } })
    .strict()
    .exitProcess(false)
    .fail((message) => { throw new Error(message); })
    .parseSync();
  const { pid, all, json, inheritable, peers, type } = received!;
  return { ...(pid === undefined ? {} : { pid: pid.map(String) }), all, json, inheritable, peers, ...(type === undefined ? {} : { type }) };
}

const agrees = test.macro({
  exec(t: ExecutionContext, args: string[]) {
    t.deepEqual(simpleAuditArgs(args), viaYargs(args));
  },
  title: (_title: string | undefined, args: string[]) => `fast path = yargs: fdscan ${args.join(' ')}`,
});

for (const args of [[], ['1234'], ['1234', '--json'], ['--json', '1', '22'], ['--all', '--json'], ['-a'], ['-i', '99'],
  ['--inheritable', '--no-peers', '5'], ['--no-peers', '--peers', '5'], ['--peers', '--no-peers', '5'], ['--json', '--json', '7']]) {
  test(agrees, args);
}

test('everything else is left to yargs', (t) => {
  for (const args of [['--help'], ['-h'], ['--version'], ['-V'], ['-t', 'REG'], ['--type=SOCK'], ['-ai'], ['--json=false'],
    ['gate', '--', 'true'], ['inherit-diff'], ['--bogus'], ['-5'], ['12a'], ['--'], ['1234', '--', 'x']]) {
    t.is(simpleAuditArgs(args), undefined, args.join(' '));
  }
});
