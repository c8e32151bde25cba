/** Starts test/fixtures programs that hold known descriptors, and stops them. */
import type { AccessMode } from '../../src/index.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/** The repository's root (tests run from dist/test/...). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const fixturesDir = join(repoRoot, 'test', 'fixtures');
export const fdscanBin = join(repoRoot, 'bin', 'fdscan.js');
/** Who runs the tests, and so owns the fixtures: root in CI, anyone else on a laptop. */
export const fixtureOwner = userInfo();

export interface ManifestEntry {
  fd: number;
  type: string;
  target: string | null;
  inheritable: boolean;
  access?: AccessMode;
  offset?: number;
  deleted?: boolean;
  protocol?: string;
  state?: string;
  peer_fd?: number;
}

export interface RunningFixture<M> {
  pid: number;
  manifest: M;
  workdir: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface FixtureOptions {
  /**
   * Start it holding only 0, 1 and 2: the descriptors this test process received from its runner
   * (a pipe on 251 here, /dev/null on 10 sometimes, something else on a CI runner) closed first, for
   * tests whose expected counts must not depend on the machine.
   */
  onlyStdio?: boolean;
}

/** Python closing every descriptor above 2, then exec'ing the command it is given. */
const CLOSE_STRAYS = 'import os, sys; os.closerange(3, 2**31 - 1); os.execvp(sys.argv[1], sys.argv[1:])';

/** Run a fixture script with a fresh work directory; resolves once it printed its JSON line. */
export async function startFixture<M extends { pid: number }>(script: string, args: string[] = [], options: FixtureOptions = {}): Promise<RunningFixture<M>> {
  const workdir = mkdtempSync(join(tmpdir(), 'fdscan-test-'));
  const command = script.endsWith('.py') ? 'python3' : process.execPath;
  const argv = [command, join(fixturesDir, script), workdir, ...args];
  if (options.onlyStdio) argv.unshift('python3', '-c', CLOSE_STRAYS);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolvePromise, reject) => {
    lines.once('line', resolvePromise);
    child.once('exit', (code) => reject(new Error(`fixture ${script} exited with ${code} before its manifest`)));
  });
  const manifest = JSON.parse(first) as M;
  return {
    pid: manifest.pid,
    manifest,
    workdir,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.stdin!.end();
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(workdir, { recursive: true, force: true });
    },
  };
}
