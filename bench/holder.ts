/** Starts a process holding exactly N descriptors (bench/native/holder.c or holder.py), and stops it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from './native.js';

export interface Holder {
  pid: number;
  /** Descriptors it reported open once ready (should equal N). */
  count: number;
  stop(): Promise<void>;
}

/** Hold `n` descriptors; resolves once the holder printed "PID COUNT". */
export async function startHolder(n: number, holderBin: string | undefined): Promise<Holder> {
  const workdir = mkdtempSync(join(tmpdir(), 'fdscan-bench-hold-'));
  const [command, args] = holderBin
    ? [holderBin, [String(n), workdir]]
    : ['python3', [join(repoRoot, 'bench', 'holder.py'), String(n), workdir]];
  const child: ChildProcess = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolvePromise, reject) => {
    lines.once('line', resolvePromise);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`holder exited with ${code} before it was ready`)));
  });
  const [pid, count] = first.trim().split(/\s+/).map(Number);
  return {
    pid: pid!,
    count: count!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.stdin!.end(); // the holder exits when stdin closes
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(workdir, { recursive: true, force: true });
    },
  };
}
