/**
 * Where fdscan's start-up leans on how another package (or Node) is made rather than on its public
 * API, each trick is pinned here: a release that moves what the trick relies on fails a test,
 * instead of the trick silently doing nothing or something else.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import yargs from 'yargs';
import { withoutHelpCache } from '../../src/cli/main.js';
import { repoRoot } from '../helpers/fixture.js';

interface UsageInternals { hasCachedHelpMessage(): boolean }
const usageOf = (parser: unknown): UsageInternals =>
  (parser as { getInternalMethods(): { getUsageInstance(): UsageInternals } }).getInternalMethods().getUsageInstance();

/** A parser with one command, as main.ts builds them. */
function commandParser(): ReturnType<typeof yargs> {
  return yargs(['gate', '--x', '1']).command('gate', 'a command', (y) => y.option('x', { type: 'number' }), () => {}).exitProcess(false).strict();
}

test('yargs renders the help after a command\'s handler, and withoutHelpCache (main.ts) still stops it', async (t) => {
  // What the trick saves: yargs as it is caches the whole help text once a command's handler ran.
  const plain = commandParser();
  await plain.parseAsync();
  t.true(usageOf(plain).hasCachedHelpMessage(), 'yargs no longer caches the help after a handler: withoutHelpCache can go');
  const fdscans = commandParser();
  t.true(withoutHelpCache(fdscans), 'yargs\' internals moved: withoutHelpCache found no cacheHelpMessage');
  await fdscans.parseAsync();
  t.false(usageOf(fdscans).hasCachedHelpMessage());
});

/** Run `code` (an ES module) in a fresh Node; its stdout. */
function node(code: string): string {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', cwd: repoRoot });
  if (result.status !== 0) throw new Error(result.stderr);
  return result.stdout;
}

test('bundled yargs (bin/bundle.js, lazy string-width segmenter): a parse makes no Intl.Segmenter; the help is yargs\' own, widths and all', (t) => {
  const program = (from: string): string => `
    let made = 0;
    const Segmenter = Intl.Segmenter;
    Intl.Segmenter = class extends Segmenter { constructor(...a) { super(...a); made++; } };
    const { default: yargs } = await import(${JSON.stringify(from)});
    const parser = yargs(['--plain', 'x']).scriptName('fdscan').command('run', 'wrap a command 幅', (y) => y.option('名前', { type: 'string', describe: 'a wide name: 幅広い 😀' })).option('plain', { describe: 'tab\\tand ✓' }).exitProcess(false).wrap(60);
    await parser.parseAsync();
    const afterParse = made;
    const help = await parser.getHelp();
    console.log(JSON.stringify({ afterParse, help }));`;
  const bundled = JSON.parse(node(program('./dist/yargs.js'))) as { afterParse: number; help: string };
  const plain = JSON.parse(node(program('yargs'))) as { afterParse: number; help: string };
  t.is(bundled.afterParse, 0, 'the bundled string-width made its segmenter at import again');
  t.true(plain.afterParse > 0, 'string-width no longer makes its segmenter at import: the bundle\'s lazySegmenter can go');
  t.is(bundled.help, plain.help);
});

test('bundled yargs loads in a deleted working directory (bin/bundle.js points it at the installed yargs, not process.cwd())', (t) => {
  const gone = mkdtempSync(join(tmpdir(), 'fdscan-gone-'));
  const code = `process.chdir(${JSON.stringify(gone)}); (await import('node:fs')).rmdirSync(${JSON.stringify(gone)}); const { default: yargs } = await import(${JSON.stringify(join(repoRoot, 'dist', 'yargs.js'))}); console.log(typeof yargs(['-x'], '/').parseSync().x);`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  try { rmdirSync(gone); } catch { /* removed by the program */ }
  t.is(result.status, 0, result.stderr);
  t.is(result.stdout.trim(), 'boolean');
});

test('koffi\'s prebuilt binary is where probes/native-library.ts loads it directly, at the version the bundle was built with', (t) => {
  const arch = process.arch;
  if (process.platform !== 'linux' || (arch !== 'x64' && arch !== 'arm64')) {
    t.pass('only Linux x64 and arm64 load it directly');
    return;
  }
  const require = createRequire(join(repoRoot, 'dist', 'fdscan.js'));
  const koffiVersion = (JSON.parse(readFileSync(join(dirname(require.resolve('koffi')), 'package.json'), 'utf8')) as { version: string }).version;
  const bundle = readFileSync(join(repoRoot, 'dist', 'fdscan.js'), 'utf8');
  t.true(bundle.includes(`native2.version === ${JSON.stringify(koffiVersion)}`) || bundle.includes(`.version === ${JSON.stringify(koffiVersion)}`), 'the bundle checks for the installed koffi\'s version');
  const native = require(`@koromix/koffi-linux-${arch}/linux_${arch}/koffi.node`) as { version?: string };
  t.is(native.version, koffiVersion, 'koffi moved or renamed its prebuilt binary: native-library.ts would fall back to require(\'koffi\')');
});

test('the Node names the bundle takes from node:fs, node:os... (bin/bundle.js, listed by the Node that built it) all exist on this Node', (t) => {
  const bundle = readFileSync(join(repoRoot, 'dist', 'fdscan.js'), 'utf8');
  const require = createRequire(import.meta.url);
  let modules = 0;
  for (const [, variable, name] of bundle.matchAll(/(\w+) = __require\("(node:\w+)"\);/g)) {
    const listed = new RegExp(`\\(\\{ ([^}]*) \\} = ${variable}\\);`).exec(bundle)?.[1];
    if (listed === undefined) continue;
    modules++;
    const exports = require(name!) as Record<string, unknown>;
    const missing = listed.split(',').map((entry) => entry.split(':')[0]!.trim()).filter((key) => !(key in exports));
    t.deepEqual(missing, [], `${name}: names the bundle was built with that this Node ${process.version} lacks`);
  }
  t.true(modules >= 4, 'the bundle\'s eager built-ins are laid out otherwise: update this test');
});
