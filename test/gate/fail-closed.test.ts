/**
 * The gate fails closed: what it could not read is never a pass. Runs as a throwaway user (root
 * can read every table), skipped visibly where one cannot be made.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fdscanBin } from '../helpers/fixture.js';
import { createOtherUser, otherUserUnavailable, unreadableFor, type OtherUser } from '../helpers/other-user.js';

const unavailable = otherUserUnavailable();
const asUser = unavailable ? test.skip : test.serial;
if (unavailable) test.skip(`fail-closed tests need another user: ${unavailable}`, () => {});
let user: OtherUser | undefined;

test.before(() => {
  if (unavailable) return;
  user = createOtherUser();
  const blocked = unreadableFor(user);
  if (blocked) throw new Error(`${blocked} is not readable by another user: a parent directory is not world-traversable`);
});
test.after.always(() => user?.remove());

/**
 * A copy of `program` in the user's home, mode 711 (the user may run it but not read it, so its
 * process is not dumpable), and a script that runs it (`before` it, with `args`), then exits 0.
 */
function unverifiedScript(u: OtherUser, program: string, name: string, lines: { before?: string; args?: string } = {}): { hidden: string; script: string } {
  const hidden = join(u.home, `hidden-${name}`);
  copyFileSync(program, hidden);
  chmodSync(hidden, 0o711);
  const script = join(u.home, `${name}.sh`);
  writeFileSync(script, `${lines.before ?? ''}${hidden}${lines.args ?? ''}\nexit 0\n`);
  return { hidden, script };
}

asUser('an execute-only program that receives a leaked descriptor is unverified: exit 2, never a pass', (t) => {
  const u = user!;
  const { hidden, script } = unverifiedScript(u, '/bin/cat', 'cat', { before: `exec 7>${join(u.home, 'app.log')}\n`, args: ' /dev/null' });
  const gate = u.fdscan(['gate', '--', 'sh', script]);
  t.is(gate.code, 2, gate.stderr);
  t.regex(gate.stderr, /unverified/i);
  t.regex(gate.stderr, new RegExp(`${hidden}.*EACCES.*not dumpable`));
  t.notRegex(gate.stderr, /\n\s+at /, 'no stack trace');
  const json = u.fdscan(['gate', '--json', '--', 'sh', script]);
  t.is(json.code, 2);
  const document = JSON.parse(json.stderr) as { passed: boolean; unverified: Array<{ receiver: { argv: string[] }; reason: string }> };
  t.false(document.passed);
  t.true(document.unverified.some((e) => e.receiver.argv[0] === hidden && /EACCES.*not dumpable/.test(e.reason)), json.stderr);
  // Asked for: the user tolerates what cannot be verified; it is still said.
  const tolerated = u.fdscan(['gate', '--allow-unverified', '--', 'sh', script]);
  t.is(tolerated.code, 0, tolerated.stderr);
  t.regex(tolerated.stderr, /unverified/i, 'still said');
});

asUser('--allow-unverified: the exit status, the text, JSON, JUnit and annotations tell one outcome', (t) => {
  const u = user!;
  const { script } = unverifiedScript(u, '/bin/true', 'true');
  const junit = join(u.home, 'gate.xml');
  const annotated = { env: { GITHUB_ACTIONS: 'true' } };

  const allowed = u.fdscan(['gate', '--allow-unverified', '--junit', junit, '--', 'sh', script], annotated);
  t.is(allowed.code, 0, allowed.stderr);
  t.regex(allowed.stderr, /^fdscan gate: passed \(/m);
  t.notRegex(allowed.stderr, /findings?/);
  t.regex(allowed.stderr, /^1 exec unverified: its table could not be read \(let through by --allow-unverified\)$/m);
  t.regex(allowed.stderr, /^::warning title=fdscan gate::1 exec unverified/m);
  t.notRegex(allowed.stderr, /::error/);
  const allowedXml = readFileSync(junit, 'utf8');
  t.regex(allowedXml, /failures="0"/);
  t.regex(allowedXml, /<skipped message="1 exec unverified: .*hidden-true.*let through by --allow-unverified\)"\/>/);
  const allowedJson = JSON.parse(u.fdscan(['gate', '--allow-unverified', '--json', '--', 'sh', script]).stderr) as Outcome;
  t.like(allowedJson, { passed: true, exitStatus: 0 });
  t.deepEqual(allowedJson.reasons.map((r) => [r.kind, r.fails, r.allowedBy]), [['unverified', false, '--allow-unverified']]);

  const refused = u.fdscan(['gate', '--junit', junit, '--', 'sh', script], annotated);
  t.is(refused.code, 2, refused.stderr);
  t.regex(refused.stderr, /^fdscan gate: failed \(/m);
  t.regex(refused.stderr, /^::error title=fdscan gate::1 exec unverified/m);
  t.regex(readFileSync(junit, 'utf8'), /failures="1"[\s\S]*<failure message="1 exec unverified: [^"]*hidden-true/);
  const refusedJson = JSON.parse(u.fdscan(['gate', '--json', '--', 'sh', script]).stderr) as Outcome;
  t.like(refusedJson, { passed: false, exitStatus: 2 });
  t.deepEqual(refusedJson.reasons.map((r) => [r.kind, r.fails]), [['unverified', true]]);
});

interface Outcome { passed: boolean; exitStatus: number; reasons: Array<{ kind: string; fails: boolean; allowedBy?: string }> }

const linux = process.platform === 'linux' ? test : test.skip;

linux('under ulimit -n 64 with 100 processes alive at once, every table is read: one leak with 100 receivers, none unverified', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-limit-'));
  try {
    const script = `exec 7>${join(dir, 'app.log')}; for i in $(seq 100); do sleep 1 & done; wait`;
    const result = spawnSync('/bin/sh', ['-c', 'ulimit -n 64 && exec "$@"', 'sh', process.execPath, fdscanBin, 'gate', '--json', '--', 'sh', '-c', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    t.is(result.status, 1, result.stderr.slice(-500));
    const document = JSON.parse(result.stderr) as { findings: Array<{ receivers: Array<{ argv: string[] }> }>; unverified: unknown[] };
    t.deepEqual(document.unverified, []);
    t.is(document.findings.length, 1, 'one open file, one finding');
    t.is(document.findings[0]!.receivers.filter((r) => r.argv[0] === 'sleep').length, 100);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

asUser('a setuid helper run by a non-root traced tree is named in a warning: it ran without its privilege', (t) => {
  const u = user!;
  const helper = join(u.home, 'setuid-id');
  copyFileSync('/usr/bin/id', helper);
  chmodSync(helper, 0o4755); // owned by root, who copied it
  const result = u.fdscan(['inherit-diff', '--json', '--', helper, '-u']);
  t.is(result.code, 0, result.stderr);
  t.is(result.stdout.trim(), String(u.uid), 'traced, the setuid bit was ignored: it ran as the user');
  const document = JSON.parse(result.stderr) as { warnings: string[] };
  t.true(document.warnings.some((w) => w.includes(helper) && /without its setuid privilege/.test(w)), document.warnings.join('\n'));
  const gate = u.fdscan(['gate', '--', helper]);
  t.regex(gate.stderr, new RegExp(`warning: .*${helper} without its setuid privilege`));
});

asUser('origins as a non-root user: the filter is set (with no_new_privs), and a setuid program runs as it does without origins', (t) => {
  const u = user!;
  const helper = join(u.home, 'setuid-id-origins');
  copyFileSync('/usr/bin/id', helper);
  chmodSync(helper, 0o4755);
  const log = join(u.home, 'origins.log');
  const script = `exec 5>${log}; ${helper} -u`;
  const withOrigins = u.fdscan(['gate', '--json', '--', 'sh', '-c', script]);
  const without = u.fdscan(['gate', '--json', '--no-origins', '--', 'sh', '-c', script]);
  t.is(withOrigins.code, 1, withOrigins.stderr);
  t.is(without.code, 1, without.stderr);
  t.is(withOrigins.stdout.trim(), String(u.uid), 'traced by a non-root tracer, the setuid bit is ignored: it ran as the user');
  t.is(withOrigins.stdout, without.stdout, 'the same with and without origins');
  type Doc = { warnings: string[]; findings: Array<{ fd: number; origin?: { syscall?: string; unknown?: string } }> };
  const a = JSON.parse(withOrigins.stderr) as Doc;
  const b = JSON.parse(without.stderr) as Doc;
  t.deepEqual(a.warnings.map((w) => w.replace(/pid \d+/g, 'pid N')), b.warnings.map((w) => w.replace(/pid \d+/g, 'pid N')));
  t.is(a.findings.find((f) => f.fd === 5)?.origin?.syscall, 'openat', JSON.stringify(a.findings));
  t.is(b.findings.find((f) => f.fd === 5)?.origin, undefined);
});

const asRoot = process.platform === 'linux' && process.getuid?.() === 0 ? test : test.skip;

asRoot('in a pid namespace that still sees the host\'s /proc, gate and audit refuse (exit 2) instead of tracing nothing', (t) => {
  const node = process.execPath;
  for (const args of [['gate', '--', 'true'], ['--no-peers'], ['inherit-diff', '--', 'true']]) {
    const result = spawnSync('unshare', ['--fork', '--pid', node, fdscanBin, ...args], { encoding: 'utf8' });
    t.is(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    t.regex(result.stderr, /^fdscan: \/proc belongs to another pid namespace[^\n]*--mount-proc[^\n]*\n$/);
  }
  // With a /proc of its own the same gate runs.
  const mounted = spawnSync('unshare', ['--fork', '--pid', '--mount-proc', node, fdscanBin, 'gate', '--', 'true'], { encoding: 'utf8' });
  t.is(mounted.status, 0, mounted.stderr);
  t.regex(mounted.stderr, /fdscan gate: passed/);
});
