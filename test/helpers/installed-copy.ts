/**
 * fdscan installed as a user installs it: this checkout packed (`npm pack`, its built dist/ as the
 * package holds it) and installed globally into a folder (`npm install -g --prefix DIR`), with
 * install scripts off, so nothing but the committed files makes the command work.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './fixture.js';

/** The POSIX launcher of this checkout: what npm's `bin` names. */
export const fdscanLauncher = join(repoRoot, 'bin', 'fdscan');

/** Where a copy was installed: the package's folder, and the command npm put in the prefix's bin folder. */
export interface InstalledCopy {
  root: string;
  bin: string;
}

let tarball: string | undefined;

/** `npm pack` of this checkout, once per test process (no `prepare`: the tests run on the built dist/). */
function packed(): string {
  if (tarball === undefined) {
    const folder = mkdtempSync(join(tmpdir(), 'fdscan-pack-'));
    process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
    execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', folder], { cwd: repoRoot, stdio: 'ignore' });
    tarball = join(folder, readdirSync(folder).find((name) => name.endsWith('.tgz'))!);
  }
  return tarball;
}

/** Install the package globally into DIR (dependencies from npm's cache where it has them). */
export function installCopy(dir: string): InstalledCopy {
  execFileSync('npm', ['install', '-g', '--prefix', dir, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--silent', packed()], { stdio: 'ignore' });
  return { root: join(dir, 'lib', 'node_modules', 'fdscan'), bin: join(dir, 'bin', 'fdscan') };
}
