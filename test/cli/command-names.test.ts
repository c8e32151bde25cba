/**
 * Command names (comm) are bytes: UTF-8 ones read as written in audit, top and metrics, and `-c`
 * matches them; bytes that are not UTF-8 (a name of another encoding, or one the kernel cut inside
 * a character at 15 bytes) show as U+FFFD, as in argv, escaped in text. Real processes that named
 * themselves with prctl(PR_SET_NAME).
 */
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { runCli } from '../helpers/cli.js';
import { parseExposition, valueOf } from '../helpers/exposition.js';

const linux = process.platform === 'linux' ? test.serial : test.skip;
const suffix = randomBytes(2).toString('hex');
/** UTF-8, unique to this run: `café-` and four hex digits, 10 bytes. */
const cafe = `café-${suffix}`;
/** Latin-1 `é` (0xE9): not UTF-8. */
const latin1 = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from(`-${suffix}`)]);
/** 14 bytes then `é`: the kernel keeps 15 bytes, the first half of the `é`. */
const cut = Buffer.from(`cut${suffix}abcdefgé`);

const holders: ChildProcess[] = [];

/** A Python process that named itself `name` (bytes) with prctl(PR_SET_NAME); resolves to its pid. */
async function named(name: Buffer): Promise<number> {
  const script = 'import ctypes, os, sys\nctypes.CDLL(None).prctl(15, bytes.fromhex(sys.argv[1]), 0, 0, 0)\nprint(os.getpid(), flush=True)\nsys.stdin.read()';
  const child = spawn('python3', ['-c', script, name.toString('hex')], { stdio: ['pipe', 'pipe', 'inherit'] });
  holders.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`python3 exited with ${code} before naming itself`)));
  });
  return Number(line);
}

const pids = { cafe: 0, latin1: 0, cut: 0 };
test.before(async () => {
  if (process.platform !== 'linux') return;
  pids.cafe = await named(Buffer.from(cafe));
  pids.latin1 = await named(latin1);
  pids.cut = await named(cut);
});
test.after.always(() => {
  for (const child of holders) child.kill();
});

linux('the names are what the kernel holds: the test\'s premise', (t) => {
  t.deepEqual(readFileSync(`/proc/${pids.cafe}/comm`), Buffer.from(`${cafe}\n`));
  t.deepEqual(readFileSync(`/proc/${pids.latin1}/comm`), Buffer.concat([latin1, Buffer.from('\n')]));
  t.deepEqual(readFileSync(`/proc/${pids.cut}/comm`), Buffer.concat([cut.subarray(0, 15), Buffer.from('\n')]));
});

linux('audit: a UTF-8 command name reads as written, in the header and in JSON', (t) => {
  const text = runCli([String(pids.cafe), '--no-peers']);
  t.is(text.code, 0, text.stderr);
  t.is(text.stdout.split('\n')[0]!.split('  ')[0], `pid ${pids.cafe} ${cafe}`);
  t.false(text.stdout.includes('Ã'), 'not decoded byte by byte');
  const json = JSON.parse(runCli([String(pids.cafe), '--no-peers', '--json']).stdout) as { command: string };
  t.is(json.command, cafe);
});

linux('-c matches a UTF-8 command name, in audit, top and metrics', (t) => {
  const audit = JSON.parse(runCli(['-c', `^${cafe}$`, '--no-peers', '--json']).stdout) as { processes: Array<{ pid: number; command: string }> };
  t.deepEqual(audit.processes.map((p) => [p.pid, p.command]), [[pids.cafe, cafe]]);
  const any = JSON.parse(runCli(['-c', 'café', '--no-peers', '--json']).stdout) as { processes: Array<{ pid: number; command: string }> };
  t.true(any.processes.some((p) => p.pid === pids.cafe), '-c café');
  const top = JSON.parse(runCli(['top', '-c', `^${cafe}$`, '-n', '0', '--json']).stdout) as { processes: Array<{ pid: number; command: string }> };
  t.deepEqual(top.processes.map((p) => [p.pid, p.command]), [[pids.cafe, cafe]]);
  const metrics = runCli(['metrics', '-c', `^${cafe}$`]);
  t.is(metrics.code, 0, metrics.stderr);
  t.true(valueOf(parseExposition(metrics.stdout), 'fdscan_process_open_fds', { pid: String(pids.cafe), command: cafe }) > 0, metrics.stdout);
});

linux('top and metrics show a UTF-8 command name as written', (t) => {
  const top = runCli(['top', String(pids.cafe)]);
  t.is(top.code, 0, top.stderr);
  t.regex(top.stdout, new RegExp(`^\\s*${pids.cafe}\\s+\\S+\\s+${cafe}\\s`, 'm'));
  const metrics = runCli(['metrics', String(pids.cafe)]);
  t.true(metrics.stdout.includes(`command="${cafe}"`), metrics.stdout);
  t.false(metrics.stdout.includes('Ã'));
});

linux('bytes that are not UTF-8 are U+FFFD, as in argv: escaped in text, kept as the character in JSON', (t) => {
  for (const [pid, shown] of [[pids.latin1, `caf\ufffd-${suffix}`], [pids.cut, `cut${suffix}abcdefg\ufffd`]] as const) {
    const json = JSON.parse(runCli([String(pid), '--no-peers', '--json']).stdout) as { command: string };
    t.is(json.command, shown);
    const text = runCli([String(pid), '--no-peers']);
    t.is(text.stdout.split('\n')[0]!.split('  ')[0], `pid ${pid} ${shown.replace('\ufffd', '\\ufffd')}`);
    const top = JSON.parse(runCli(['top', String(pid), '--json']).stdout) as { processes: Array<{ command: string }> };
    t.is(top.processes[0]!.command, shown);
  }
});
