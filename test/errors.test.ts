/** The one error path: OS errors mapped once, errors crossing threads keep their class, bugs are one line and exit 70. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AccessDenied, FdscanError, NoSuchProcess, OsError, UsageError, listDescriptors, countDescriptors } from '../src/index.js';
import { deserializeError, errnoError, osFailure, serializeError } from '../src/errors.js';
import { repoRoot } from './helpers/fixture.js';
import { runCli } from './helpers/cli.js';

const linux = process.platform === 'linux' ? test : test.skip;
const indexUrl = pathToFileURL(join(repoRoot, 'dist', 'src', 'index.js')).href;
const mainUrl = pathToFileURL(join(repoRoot, 'dist', 'src', 'cli', 'main.js')).href;

/** Run an ES module script in a fresh node; returns its exit status and output. */
function runScript(source: string): { code: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fdscan-errors-'));
  try {
    const file = join(dir, 'script.mjs');
    writeFileSync(file, source);
    const result = spawnSync(process.execPath, [file], { encoding: 'utf8', env: { ...process.env, FDSCAN_DEBUG: undefined } });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('osFailure: EACCES/EPERM are AccessDenied, ENOENT of a gone process NoSuchProcess, anything else OsError naming the call', (t) => {
  t.true(osFailure(errnoError('open', 13), 5, 'open /proc/5/fd', () => false) instanceof AccessDenied);
  t.true(osFailure(errnoError('open', 1), 5, 'open /proc/5/fd', () => false) instanceof AccessDenied);
  t.true(osFailure(errnoError('open', 2), 5, 'open /proc/5/fd', () => true) instanceof NoSuchProcess);
  const stillThere = osFailure(errnoError('open', 2), 5, 'open /proc/5/fd', () => false);
  t.true(stillThere instanceof OsError, 'ENOENT while the process lives is not "no such process"');
  const emfile = osFailure(errnoError('open', 24), 5, 'open /proc/5/fd', () => true);
  t.true(emfile instanceof OsError);
  t.is((emfile as OsError).errno, 'EMFILE');
  t.regex(emfile.message, /^open \/proc\/5\/fd: EMFILE/);
  const bug = new TypeError('x is undefined');
  t.is(t.throws(() => osFailure(bug, 5, 'open', () => true)), bug, 'a bug is rethrown unchanged');
  const typed = new UsageError('bad');
  t.is(osFailure(typed, 5, 'open', () => true), typed);
});

test('errors crossing a thread keep their class, code and fields', (t) => {
  for (const error of [new NoSuchProcess(42), new AccessDenied(42, 'permission denied'), new OsError('waitpid', 10), new FdscanError('ESPAWN', 'cannot start')]) {
    const back = deserializeError(structuredClone(serializeError(error)));
    t.is(back.constructor, error.constructor, error.name);
    t.is((back as FdscanError).code, error.code);
    t.is(back.message, error.message);
  }
  const bug = deserializeError(structuredClone(serializeError(new TypeError('boom'))));
  t.false(bug instanceof FdscanError, 'a bug stays a bug');
  t.is(bug.message, 'boom');
});

linux('a descriptor limit reached is OsError EMFILE, not "no such process"', (t) => {
  const result = runScript(`
    import { openSync } from 'node:fs';
    const { listDescriptors, countDescriptors } = await import(${JSON.stringify(indexUrl)});
    const held = [];
    try { for (;;) held.push(openSync('/dev/null', 'r')); } catch (error) { if (error.code !== 'EMFILE') throw error; }
    for (const call of [() => listDescriptors(process.pid), () => listDescriptors(1)]) {
      try { call(); console.log('no error'); } catch (error) { console.log(error.name, error.code, error.errno); }
    }
  `);
  t.is(result.code, 0, result.stderr);
  t.deepEqual(result.stdout.trim().split('\n'), ['OsError EOS EMFILE', 'OsError EOS EMFILE']);
});

linux('a process that exits is NoSuchProcess; a bad pid is a UsageError', (t) => {
  const child = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' });
  const gone = Number(child.stdout.trim());
  t.throws(() => listDescriptors(gone), { instanceOf: NoSuchProcess });
  t.throws(() => countDescriptors(gone), { instanceOf: NoSuchProcess });
  for (const bad of [0, -1, 1.5, Number.NaN, '12' as unknown as number]) t.throws(() => listDescriptors(bad), { instanceOf: UsageError });
});

test('a bug reaching main is one line and exit 70; FDSCAN_DEBUG=1 adds the stack', (t) => {
  const script = (debug: boolean): string => `
    ${debug ? "process.env.FDSCAN_DEBUG = '1';" : ''}
    const { probeFor } = await import(${JSON.stringify(indexUrl)});
    probeFor().listDescriptorsOfMany = () => { throw new TypeError('Cannot read properties of undefined'); };
    const { main } = await import(${JSON.stringify(mainUrl)});
    await main([String(process.pid), '--json']);
  `;
  const plain = runScript(script(false));
  t.is(plain.code, 70);
  t.is(plain.stdout, '');
  t.regex(plain.stderr, /^fdscan: internal error: Cannot read properties of undefined \(a bug: please report it, with FDSCAN_DEBUG=1 for the details\)\n$/);
  const debug = runScript(script(true));
  t.is(debug.code, 70);
  t.regex(debug.stderr, /\n\s+at /, 'the stack, when asked for');
});

linux('a platform without an exec tracer: one line that names fdscan once', (t) => {
  const result = runScript(`
    const { probeFor } = await import(${JSON.stringify(indexUrl)});
    delete probeFor().tracer;
    const { main } = await import(${JSON.stringify(mainUrl)});
    await main(['gate', '--', 'true']);
  `);
  t.is(result.code, 2);
  t.is(result.stderr, "fdscan: no exec tracer for platform 'linux'\n");
});

test('a typed error is one line and exit 2, no stack', (t) => {
  const result = runCli(['2147483646']);
  t.is(result.code, 2);
  t.is(result.stderr, 'fdscan: no process with pid 2147483646\n');
});

linux('library functions validate their arguments: UsageError, not NoSuchProcess or a TypeError', async (t) => {
  const { traceCommand, runLifecycle, countDescriptors: count } = await import('../src/index.js');
  await t.throwsAsync(traceCommand('true' as unknown as string[]), { instanceOf: UsageError });
  await t.throwsAsync(traceCommand([]), { instanceOf: UsageError });
  await t.throwsAsync(traceCommand(['true', 5 as unknown as string]), { instanceOf: UsageError });
  await t.throwsAsync(traceCommand(['true'], { forwardSignals: ['SIGNOPE' as NodeJS.Signals] }), { instanceOf: UsageError });
  await t.throwsAsync(traceCommand(['true'], { forwardSignals: ['SIGKILL'] }), { instanceOf: UsageError });
  await t.throwsAsync(runLifecycle([]), { instanceOf: UsageError });
  await t.throwsAsync(runLifecycle(['cat'], { input: ['a', 'b'] as unknown as string }), { instanceOf: UsageError });
  t.throws(() => count(-4), { instanceOf: UsageError });
});
