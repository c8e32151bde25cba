/** The audit's limits and its -c/-u selection, on fixtures that lowered their own descriptor limit. */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { runCli } from '../helpers/cli.js';
import { fixtureOwner, type RunningFixture } from '../helpers/fixture.js';
import { startNearLimit, type NearLimit } from '../helpers/near-limit.js';

const linux = process.platform === 'linux' ? test.serial : test.skip;
/** A command name no other process has (comm holds 15 bytes). */
const name = `fdsel${randomBytes(4).toString('hex')}`;
let fixtures: Array<RunningFixture<NearLimit>> = [];

test.before(async () => {
  if (process.platform === 'linux') {
    fixtures = await Promise.all([startNearLimit(50, 45, name), startNearLimit(64, 20, name)]);
  }
});
test.after.always(async () => Promise.all(fixtures.map((f) => f.stop())));

interface AuditSet {
  schema: string;
  processes: Array<{ pid: number; command: string; limits?: { soft: number | null; hard: number | null }; fds: unknown[] }>;
  failures: unknown[];
  unreadable?: number;
}

linux('audit JSON carries the process\'s soft and hard descriptor limits', (t) => {
  const [a] = fixtures;
  const result = runCli([String(a!.pid), '--json', '--no-peers']);
  t.is(result.code, 0, result.stderr);
  const document = JSON.parse(result.stdout) as { schema: string; limits: unknown; fds: unknown[] };
  t.is(document.schema, 'fdscan/audit@1');
  t.deepEqual(document.limits, { soft: 50, hard: a!.manifest.hard });
  t.is(document.fds.length, a!.manifest.open);
});

linux('-c REGEX selects by command name, -u by user name or uid; each audit has its limits', (t) => {
  for (const args of [['-c', `^${name}$`], ['--command', name.slice(0, 9)], ['-c', name, '-u', fixtureOwner.username], ['-c', name, '--user', String(fixtureOwner.uid)]]) {
    const result = runCli([...args, '--json', '--no-peers']);
    t.is(result.code, 0, result.stderr);
    const document = JSON.parse(result.stdout) as AuditSet;
    t.is(document.schema, 'fdscan/audit-set@1', args.join(' '));
    t.deepEqual(document.processes.map((p) => p.pid).sort(), fixtures.map((f) => f.pid).sort(), args.join(' '));
    for (const p of document.processes) {
      const fixture = fixtures.find((f) => f.pid === p.pid)!;
      t.deepEqual(p.limits, { soft: fixture.manifest.soft, hard: fixture.manifest.hard });
      t.is(p.fds.length, fixture.manifest.open);
    }
    t.is(typeof document.unreadable, 'number');
  }
  // Another user's uid selects none of them.
  const none = JSON.parse(runCli(['-c', name, '-u', '1', '--json']).stdout) as AuditSet;
  t.deepEqual(none.processes, []);
});

linux('the table of a selection ends with the count line, as --all does', (t) => {
  const result = runCli(['-c', `^${name}$`, '--no-peers']);
  t.is(result.code, 0, result.stderr);
  for (const f of fixtures) t.regex(result.stdout, new RegExp(`^pid ${f.pid} ${name}`, 'm'));
  t.regex(result.stdout, /^2 processes audited, 0 not readable by this user, 0 exited meanwhile$/m);
});

test('a bad pattern, an unknown user, a flag given twice: one line, exit 2', (t) => {
  for (const args of [['-c', '('], ['-u', 'no-such-user-fdscan'], ['-c', 'a', '-c', 'b'], ['-u', '99999999999'], ['-a', '1', '-c', 'x']]) {
    const result = runCli(args);
    t.is(result.code, 2, args.join(' '));
    t.is(result.stdout, '');
    t.regex(result.stderr, /^fdscan: [^\n]+ \(see fdscan --help\)\n$/, args.join(' '));
  }
});
