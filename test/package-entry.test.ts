/**
 * The package as other projects load it: a project whose node_modules holds fdscan (a symlink to
 * this checkout, as `npm install ../fdscan` makes) requires it from CommonJS, from TypeScript
 * compiled to CommonJS by this repository's tsc, and imports it from an ES module; each audits its
 * own pid. `require('fdscan')` had failed with ERR_REQUIRE_ASYNC_MODULE (a top-level await in the
 * probe loader).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './helpers/fixture.js';
import { withTempDir } from './helpers/temp-dir.js';

const supported = ['linux', 'darwin', 'win32'].includes(process.platform);
const onSupported = supported ? test : test.skip;

/** What each consumer prints: the pid its audit names, its own pid and its descriptor count. */
const REPORT = 'JSON.stringify({ audited: audit.pid, own: process.pid, fds: audit.fds.length, code: new NoSuchProcess(1).code })';

/** A project folder whose node_modules has fdscan (and Node's types, for tsc). */
function consumerProject(dir: string): void {
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'commonjs' }));
  symlinkSync(repoRoot, join(dir, 'node_modules', 'fdscan'), 'junction');
  symlinkSync(join(repoRoot, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'), 'junction');
}

/**
 * Node 20's loader, started by this test in a fresh-clone CI run (Node 20 lane only, never alone, never
 * on Node 26), now and then reported that one of fdscan's built modules "does not provide an export
 * named X" that the file holds (a different module and name each time: stdio-mode's
 * withBlockingStdio, caller-state's entryValue, gate-outcome's gateOutcome); nothing wrote to dist/
 * meanwhile (watched with inotify). That one error is retried once and logged; any other failure,
 * or the same one twice, fails the test.
 */
const LOADER_FLAKE = /SyntaxError: The requested module '[^']+' does not provide an export named '[^']+'/;

/** Run a file of the project with this Node; its one line of JSON. */
function runIn(dir: string, file: string, log: (message: string) => void = () => {}): { audited: number; own: number; fds: number; code: string } {
  let result = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0 && LOADER_FLAKE.test(result.stderr)) {
    log(`retried once after Node ${process.versions.node}: ${LOADER_FLAKE.exec(result.stderr)![0]}`);
    result = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8' });
  }
  if (result.status !== 0) throw new Error(`node ${file} exited ${result.status}: ${result.stderr.slice(-1500)}`);
  return JSON.parse(result.stdout) as { audited: number; own: number; fds: number; code: string };
}

onSupported('a CommonJS file requires fdscan and audits its own pid', (t) => {
  withTempDir('fdscan-cjs', (dir) => {
    consumerProject(dir);
    writeFileSync(join(dir, 'main.cjs'), `const { listDescriptors, NoSuchProcess } = require('fdscan');\nconst audit = listDescriptors(process.pid);\nconsole.log(${REPORT});\n`);
    const printed = runIn(dir, 'main.cjs', (m) => t.log(m));
    t.is(printed.audited, printed.own);
    t.true(printed.fds >= 3);
    t.is(printed.code, 'ENOPROCESS');
  });
});

onSupported('a TypeScript project compiled to CommonJS (module commonjs) requires fdscan and audits its own pid', (t) => {
  withTempDir('fdscan-cjs-ts', (dir) => {
    consumerProject(dir);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'commonjs', target: 'ES2022', strict: true, outDir: 'out', types: ['node'], skipLibCheck: false },
      files: ['main.ts'],
    }));
    writeFileSync(join(dir, 'main.ts'), `import { listDescriptors, NoSuchProcess } from 'fdscan';\nconst audit = listDescriptors(process.pid);\nconsole.log(${REPORT});\n`);
    // One checker thread: in a full run on a loaded machine TypeScript 7's parallel checkers once
    // reported fdscan's declaration files as 'not a module' (never alone, never single-threaded).
    const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '--singleThreaded', '-p', dir], { cwd: dir, encoding: 'utf8' });
    t.is(tsc.status, 0, tsc.stdout + tsc.stderr);
    const printed = runIn(dir, join('out', 'main.js'), (m) => t.log(m));
    t.is(printed.audited, printed.own);
    t.true(printed.fds >= 3);
  });
});

onSupported('an ES module still imports fdscan and audits its own pid', (t) => {
  withTempDir('fdscan-esm', (dir) => {
    consumerProject(dir);
    writeFileSync(join(dir, 'main.mjs'), `import { listDescriptors, NoSuchProcess } from 'fdscan';\nconst audit = listDescriptors(process.pid);\nconsole.log(${REPORT});\n`);
    const printed = runIn(dir, 'main.mjs', (m) => t.log(m));
    t.is(printed.audited, printed.own);
    t.true(printed.fds >= 3);
  });
});

onSupported('--version is fdscan\'s own in a project that has it among its devDependencies (yargs hoisted beside it)', (t) => {
  withTempDir('fdscan-version', (dir) => {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '9.9.9', private: true }));
    // The layout npm makes: fdscan's files, and yargs beside it rather than inside it.
    const installed = join(dir, 'node_modules', 'fdscan');
    for (const file of ['package.json', 'bin/fdscan.js', 'dist/fdscan.js', 'dist/yargs.js']) cpSync(join(repoRoot, file), join(installed, file));
    cpSync(join(repoRoot, 'node_modules', 'yargs'), join(dir, 'node_modules', 'yargs'), { recursive: true, dereference: true });
    const result = spawnSync(process.execPath, [join(installed, 'bin', 'fdscan.js'), '--version'], { cwd: dir, encoding: 'utf8' });
    t.is(result.status, 0, result.stderr);
    t.is(result.stdout.trim(), (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version);
  });
});
