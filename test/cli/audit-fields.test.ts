/**
 * --fields (lsfd's -o for the process fields): the JSON gives exactly the optional fields named, the
 * library reads argv, the owner and the limits only when asked, and an unknown field is exit 2.
 */
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { auditProcesses, listDescriptors, UsageError } from '../../src/index.js';
import { runCli } from '../helpers/cli.js';

const linux = process.platform === 'linux' ? test.serial : test.skip;
const OPTIONAL = ['command', 'argv', 'ppid', 'uid', 'limits'];

let child: ChildProcess;
test.before(async () => {
  child = spawn('sleep', ['600'], { stdio: 'ignore' });
  await once(child, 'spawn');
});
test.after.always(() => child?.kill());

/** The optional keys present in one process of an audit document. */
const present = (document: Record<string, unknown>): string[] => OPTIONAL.filter((key) => key in document);

linux('--fields: the JSON of one process gives the optional fields named and no other', (t) => {
  const all = runCli([String(child.pid), '--json']);
  t.is(all.code, 0, all.stderr);
  t.deepEqual(present(JSON.parse(all.stdout)), OPTIONAL);
  for (const [fields, expected] of [['pid', []], ['argv', ['argv']], ['pid,limits,uid', ['uid', 'limits']], ['command,ppid', ['command', 'ppid']]] as const) {
    const run = runCli([String(child.pid), '--json', '--fields', fields]);
    t.is(run.code, 0, run.stderr);
    const document = JSON.parse(run.stdout) as Record<string, unknown>;
    t.deepEqual(present(document), expected, fields);
    t.is(document.pid, child.pid);
    t.true(Array.isArray(document.fds) && Array.isArray(document.errors));
  }
  t.deepEqual((JSON.parse(runCli([String(child.pid), '--json', '--fields=argv']).stdout) as { argv: string[] }).argv, ['sleep', '600']);
});

linux('--all --fields pid: no process carries argv, owner or limits; the rows are still read', (t) => {
  const run = runCli(['--all', '--json', '--no-peers', '--fields', 'pid']);
  t.is(run.code, 0, run.stderr);
  const processes = (JSON.parse(run.stdout) as { processes: Array<Record<string, unknown> & { fds: unknown[] }> }).processes;
  const sleeper = processes.find((p) => p.pid === child.pid);
  t.truthy(sleeper);
  t.true(sleeper!.fds.length >= 3);
  t.deepEqual(processes.flatMap(present), []);
});

linux('the library reads argv, uid and limits only when fields names them', (t) => {
  const minimal = listDescriptors(child.pid!, { fields: ['pid'] });
  t.deepEqual([minimal.argv, minimal.uid, minimal.limits], [undefined, undefined, undefined]);
  t.is(minimal.command, 'sleep');
  const full = auditProcesses([child.pid!], { fields: ['argv', 'uid', 'limits'] })[0]!.audit!;
  t.deepEqual(full.argv, ['sleep', '600']);
  t.is(full.uid, process.getuid!());
  t.truthy(full.limits);
});

test('an unknown field is exit 2 naming the known ones, from the CLI and the library', (t) => {
  const bad = runCli([String(process.pid), '--fields', 'pid,bogus']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^fdscan: unknown field 'bogus'; known fields: pid, command, argv, ppid, uid, platform, limits, fds, errors/);
  t.is(bad.stdout, '');
  t.throws(() => listDescriptors(process.pid, { fields: ['cmdline'] }), { instanceOf: UsageError });
});
