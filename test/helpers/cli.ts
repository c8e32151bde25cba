/** Runs the real fdscan binary, as a user would, and captures what it prints. */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { fdscanBin } from './fixture.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `fdscan ARGS` with NO_COLOR, outside any terminal. */
export function runCli(args: string[], options: SpawnSyncOptions = {}): CliResult {
  const result = spawnSync(process.execPath, [fdscanBin, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    ...options,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, COLUMNS: undefined, ...options.env },
  });
  return { code: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** stdio for spawn: pipes for 1 and 2 (and 0 if asked), `fd` at child descriptor `at`, nothing in between. */
export function stdioWith(at: number, fd: number, stdin: 'ignore' | 'pipe' = 'ignore'): Array<'ignore' | 'pipe' | number> {
  return [stdin, 'pipe', 'pipe', ...Array<'ignore'>(at - 3).fill('ignore'), fd];
}
