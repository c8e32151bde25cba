/**
 * A throwaway user for tests that need someone who is not root: created with useradd (root only),
 * removed afterwards. Without root or useradd the tests using it skip visibly (ava shows a skip).
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fdscanBin, repoRoot } from './fixture.js';

export interface OtherUser {
  name: string;
  uid: number;
  gid: number;
  /** A folder of the user's own (this machine's /tmp may be mode 0755). */
  home: string;
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

/** Create the user; throws when that fails (call otherUserUnavailable first). */
export function createOtherUser(): OtherUser {
  const name = `fdscan${randomBytes(3).toString('hex')}`;
  const made = spawnSync('/usr/sbin/useradd', ['--no-create-home', '--shell', '/bin/sh', '--user-group', name], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`useradd failed: ${made.stderr.trim()}`);
  const id = (flag: string): number => Number(spawnSync('id', [flag, name], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  const home = mkdtempSync(join(tmpdir(), 'fdscan-user-'));
  chmodSync(home, 0o777);
  const run = (command: string, args: string[], options: SpawnSyncOptions = {}) => {
    const result = spawnSync(command, args, {
      uid, gid, cwd: home, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024,
      ...options,
      env: { PATH: process.env.PATH, HOME: home, NO_COLOR: '1', ...options.env },
    });
    return { code: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
  };
  return {
    name, uid, gid, home, run,
    fdscan: (args, options) => run(process.execPath, [fdscanBin, ...args], options),
    remove: () => {
      spawnSync('/usr/sbin/userdel', ['--force', name]);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The first of node, the built code and node_modules that `user` cannot read, or undefined. */
export function unreadableFor(user: OtherUser): string | undefined {
  return [process.execPath, fdscanBin, join(repoRoot, 'dist', 'src', 'index.js'), join(repoRoot, 'node_modules', 'yargs', 'package.json')]
    .find((path) => user.run('/bin/sh', ['-c', 'test -r "$1"', 'sh', path]).code !== 0);
}
