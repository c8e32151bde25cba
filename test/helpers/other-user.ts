/**
 * A throwaway user for tests that need someone who is not root: created with useradd (root only),
 * removed afterwards. Without root or useradd the tests using it skip visibly (ava shows a skip).
 *
 * The user runs fdscan from a copy of what an installed fdscan holds (package.json's "files", its
 * runtime node_modules), not from the checkout: a checkout in /root or in a `mktemp -d` folder
 * (mode 0700) is closed to every other user. The copy is made once per test process, in a folder
 * of mode 0755, and removed when the process exits; node is copied too when the user cannot run it
 * where it is (a Node downloaded under the checkout for the second Node lane).
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdtempSync, chmodSync, copyFileSync, cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from './fixture.js';

export interface OtherUser {
  name: string;
  uid: number;
  gid: number;
  /** A folder of the user's own (this machine's /tmp may be mode 0755). */
  home: string;
  /** The node binary the user runs: this process's own, or a copy where the user could not reach it. */
  node: string;
  /** bin/fdscan.js of the copy the user can read. */
  fdscanBin: string;
  /** The library's entry (dist/src/index.js) of that copy, as a file URL for `import()`. */
  library: string;
  /** Run a command as the user; output as text. */
  run(command: string, args: string[], options?: SpawnSyncOptions): { code: number | null; stdout: string; stderr: string };
  /** Run fdscan as the user. */
  fdscan(args: string[], options?: SpawnSyncOptions): { code: number | null; stdout: string; stderr: string };
  remove(): void;
}

/** Why another user cannot be had here, or undefined when it can. */
export function otherUserUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'Linux only';
  if (process.getuid?.() !== 0) return 'not root: cannot create a throwaway user';
  if (!existsSync('/usr/sbin/useradd') || !existsSync('/usr/sbin/userdel')) return 'useradd/userdel not installed';
  return undefined;
}

/** Whether user `uid` passes `test FLAG PATH` (-r, -x: read, run or enter). */
function userCan(uid: number, gid: number, flag: string, path: string): boolean {
  return spawnSync('/bin/sh', ['-c', `test ${flag} "$1"`, 'sh', path], { uid, gid }).status === 0;
}

/** A temp folder the user can enter: the temp dir when it can (TMPDIR may be a private folder), else /tmp. */
function reachableTemp(uid: number, gid: number): string {
  return userCan(uid, gid, '-x', tmpdir()) ? tmpdir() : '/tmp';
}

interface Install {
  root: string;
  node: string;
}

let install: Install | undefined;

/** The runtime packages of `dir`'s package.json, found as Node would from there, each with the ones it needs. */
function runtimePackages(dir: string, found: Set<string>): Set<string> {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: object; optionalDependencies?: object };
  for (const name of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
    // A copy nested under a package travels with it; otherwise npm hoisted it to the top.
    if (dir !== repoRoot && existsSync(join(dir, 'node_modules', name))) continue;
    const top = join(repoRoot, 'node_modules', name);
    if (found.has(top) || !existsSync(join(top, 'package.json'))) continue; // seen, or an optional one for another platform
    found.add(top);
    runtimePackages(top, found);
  }
  return found;
}

/** Make `path` and all below it readable (and folders enterable) by all: a checkout made under umask 077 is not. */
function openToAll(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  chmodSync(path, (stat.mode & 0o7777) | (stat.isDirectory() || stat.mode & 0o100 ? 0o555 : 0o444));
  if (stat.isDirectory()) for (const entry of readdirSync(path)) openToAll(join(path, entry));
}

/** Copy what an installed fdscan holds (and node, if `uid` cannot run it) to a 0755 folder; once per process. */
function readableInstall(uid: number, gid: number): Install {
  if (install) return install;
  const root = mkdtempSync(join(reachableTemp(uid, gid), 'fdscan-installed-'));
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { files: string[] };
  for (const entry of ['package.json', ...manifest.files]) {
    if (existsSync(join(repoRoot, entry))) cpSync(join(repoRoot, entry), join(root, entry), { recursive: true });
  }
  for (const dir of runtimePackages(repoRoot, new Set())) {
    cpSync(dir, join(root, 'node_modules', dir.slice(join(repoRoot, 'node_modules').length + 1)), { recursive: true });
  }
  let node = process.execPath;
  if (!userCan(uid, gid, '-x', node)) {
    node = join(root, 'node', basename(process.execPath));
    mkdirSync(dirname(node));
    copyFileSync(process.execPath, node);
  }
  openToAll(root);
  install = { root, node };
  return install;
}

/** Create the user; throws when that fails (call otherUserUnavailable first). */
export function createOtherUser(): OtherUser {
  const name = `fdscan${randomBytes(3).toString('hex')}`;
  const made = spawnSync('/usr/sbin/useradd', ['--no-create-home', '--shell', '/bin/sh', '--user-group', name], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`useradd failed: ${made.stderr.trim()}`);
  const id = (flag: string): number => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  const home = mkdtempSync(join(reachableTemp(uid, gid), 'fdscan-user-'));
  chmodSync(home, 0o777);
  const { root, node } = readableInstall(uid, gid);
  const fdscanBin = join(root, 'bin', 'fdscan.js');
  // Every `node` the user's commands start is the one it runs fdscan with, as the second Node lane wants.
  const path = node === process.execPath ? process.env.PATH : `${dirname(node)}${delimiter}${process.env.PATH ?? ''}`;
  const run = (command: string, args: string[], options: SpawnSyncOptions = {}) => {
    const result = spawnSync(command, args, {
      uid, gid, cwd: home, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024,
      ...options,
      env: { PATH: path, HOME: home, NO_COLOR: '1', ...options.env },
    });
    return { code: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
  };
  return {
    name, uid, gid, home, node, fdscanBin,
    library: pathToFileURL(join(root, 'dist', 'src', 'index.js')).href,
    run,
    fdscan: (args, options) => run(node, [fdscanBin, ...args], options),
    remove: () => {
      spawnSync('/usr/sbin/userdel', ['--force', name]);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The first of node, the built code and node_modules that `user` cannot read, or undefined. */
export function unreadableFor(user: OtherUser): string | undefined {
  const root = dirname(dirname(user.fdscanBin));
  return [user.node, user.fdscanBin, join(root, 'dist', 'fdscan.js'), join(root, 'dist', 'src', 'index.js'), join(root, 'node_modules', 'koffi', 'package.json')]
    .find((path) => user.run('/bin/sh', ['-c', 'test -r "$1"', 'sh', path]).code !== 0);
}
