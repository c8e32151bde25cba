/** The yargs-free fast path parses the simple audit forms exactly as yargs does, and only those. */
import test, { type ExecutionContext } from 'ava';
import yargs from 'yargs';
import { AUDIT_OPTIONS, auditCommand, type AuditArgs } from '../../src/cli/audit-command.js';
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
  const { pid, type, ...rest } = received!;
  // Only the table's own keys (yargs adds aliases, camel-case forms, `_` and `$0`); an option
  // without a default that was not given is undefined in yargs and absent from the fast path.
  const flags = Object.fromEntries(Object.keys(AUDIT_OPTIONS).filter((k) => k !== 'type' && rest[k as keyof typeof rest] !== undefined)
    .map((k) => [k, rest[k as keyof typeof rest]]));
  return { ...(pid === undefined ? {} : { pid: pid.map(String) }), ...flags, ...(type === undefined ? {} : { type }) } as AuditArgs;
}

const agrees = test.macro({
  exec(t: ExecutionContext, args: string[]) {
    t.deepEqual(simpleAuditArgs(args), viaYargs(args));
  },
  title: (_title: string | undefined, args: string[]) => `fast path = yargs: fdscan ${args.join(' ')}`,
});

for (const args of [[], ['1234'], ['1234', '--json'], ['--json', '1', '22'], ['--all', '--json'], ['-a'], ['-i', '99'],
  ['--inheritable', '--no-peers', '5'], ['--no-peers', '--peers', '5'], ['--peers', '--no-peers', '5'], ['--json', '--json', '7'],
  ['--all', '--json', '--fields', 'pid,command'], ['--fields=argv', '12'], ['3', '--fields', 'limits,uid', '--json']]) {
  test(agrees, args);
}

// Every spelling of every boolean flag of the table, so a flag added there is checked here too.
for (const [name, option] of Object.entries(AUDIT_OPTIONS)) {
  if (option.type !== 'boolean') continue;
  const aliases = 'alias' in option ? [option.alias] : [];
  for (const spelling of [`--${name}`, `--no-${name}`, ...aliases.map((a) => `-${a}`)]) test(agrees, [spelling, '42']);
}

test('everything else is left to yargs', (t) => {
  for (const args of [['--help'], ['-h'], ['--version'], ['-V'], ['-t', 'REG'], ['--type=SOCK'], ['-ai'], ['--json=false'],
    ['gate', '--', 'true'], ['inherit-diff'], ['--bogus'], ['-5'], ['12a'], ['--'], ['1234', '--', 'x'], ['-c', 'nginx'], ['-u', '0'],
    ['--fields'], ['--fields', '--json'], ['--fields='], ['--fields', 'pid', '--fields', 'argv']]) {
    t.is(simpleAuditArgs(args), undefined, args.join(' '));
  }
});
