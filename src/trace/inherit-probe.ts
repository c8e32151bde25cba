/**
 * `inheritDiff(spawnOptions)`: what would a child started with these child_process options receive
 * from this process? Starts fdscan's probe child, `/bin/sh -c 'kill -STOP $$'` (a shell that opens
 * nothing and stops itself right after its exec), with the caller's options, reads its table while it
 * is stopped, matches it against the caller's own (kcmp where permitted), then lets it exit.
 */
import { spawn, type SpawnOptions, type StdioOptions } from 'node:child_process';
import type { Descriptor } from '../probe-kit/contract.js';
import { FdscanError, UnsupportedPlatform } from '../errors.js';
import { waitUntilStopped } from '../launch/stopped-child.js';
import { STOP_ONLY } from '../probe-kit/stop-stub.js';
import { diffProcessPair } from './pair-diff.js';


/** A descriptor the probe child received, and the caller's descriptor it is a copy of, if any. */
export interface ReceivedDescriptor extends Descriptor {
  parentFd?: number;
  match?: 'kcmp' | 'identity';
  /**
   * The caller's descriptor is one its own parent holds too: the caller most likely received it
   * (a test runner's or a shell's stray descriptor) rather than opened it; as the CLI's ambient
   * descriptors, reported but not the caller's leak.
   */
  ambient?: true;
}

/** What the probe child received. */
export interface InheritDiffResult {
  pid: number;
  /** Everything the child held right after its exec, 0, 1 and 2 included. */
  received: ReceivedDescriptor[];
  /**
   * Received descriptors above 2 that `stdio` did not ask for: copies of the caller's that leaked.
   * Those marked `ambient` came to the caller from its own parent: `leaked.filter((d) => !d.ambient)`
   * is what the caller's code opened and let through.
   */
  leaked: ReceivedDescriptor[];
  warnings: string[];
}

/** Spawn the probe child with `options` (command and `shell` are fdscan's) and report what it received. */
export async function inheritDiff(options: SpawnOptions = {}): Promise<InheritDiffResult> {
  if (process.platform !== 'linux') throw new UnsupportedPlatform(process.platform);
  const child = spawn('/bin/sh', ['-c', STOP_ONLY], { ...options, shell: false, detached: options.detached ?? false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = new Promise<never>((_, reject) => child.once('error', (error) => reject(new FdscanError('ESPAWN', `probe child: ${error.message}`, { cause: error }))));
  try {
    if (child.pid === undefined) await failed; // spawn failed: 'error' follows
    const pid = child.pid!;
    await Promise.race([waitUntilStopped(pid, 'probe child'), failed]);
    const diff = diffProcessPair(process.pid, pid);
    const received: ReceivedDescriptor[] = [
      ...diff.shared.map(({ parentFd, match, ...d }) => ({ ...d, parentFd, match })),
      ...diff.childOnly,
    ].sort((a, b) => a.fd - b.fd);
    const asked = explicitDescriptors(options.stdio);
    const warnings = [...diff.warnings];
    const ambient = heldByOwnParent(warnings);
    for (const d of received) if (d.parentFd !== undefined && ambient.has(d.parentFd)) d.ambient = true;
    return {
      pid,
      received,
      leaked: received.filter((d) => d.fd > 2 && d.parentFd !== undefined && !asked.has(d.fd)),
      warnings,
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    child.stdin?.destroy();
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
}

/**
 * The caller's descriptors that its own parent holds too (the same open file, by kcmp where
 * permitted): received from it, as the CLI's ambient descriptors are received by fdscan. None, with
 * a warning, when the parent cannot be read (gone, or another user's).
 */
function heldByOwnParent(warnings: string[]): Set<number> {
  const fds = new Set<number>();
  try {
    for (const d of diffProcessPair(process.ppid, process.pid).shared) fds.add(d.fd);
  } catch (error) {
    if (!(error instanceof FdscanError)) throw error;
    warnings.push(`cannot tell ambient descriptors from the caller's own: ${error.message}`);
  }
  return fds;
}

/** Child descriptor numbers above 2 that `stdio` sets up on purpose. */
function explicitDescriptors(stdio: StdioOptions | undefined): Set<number> {
  const asked = new Set<number>();
  if (!Array.isArray(stdio)) return asked;
  stdio.forEach((entry, fd) => {
    if (fd > 2 && entry !== 'ignore' && entry !== undefined && entry !== null) asked.add(fd);
  });
  return asked;
}
