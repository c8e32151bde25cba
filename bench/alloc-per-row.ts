/**
 * JavaScript heap allocated per descriptor row by an audit as `fdscan PID --json` makes it (the
 * probe's read, the document, its JSON text), from V8's own count: `--trace-gc-nvp` prints the
 * bytes allocated since the previous collection at each one. A child runs 2 and then 8 audits of a
 * holder of N descriptors; the difference, over 6 × N, is the allocation per row (start-up and the
 * first audit's warm-up cancel out). A collection forced at the end counts the last bytes too.
 *
 *   node dist/bench/alloc-per-row.js [--checkout DIR] [--holder 10000] [--no-peers]
 *
 * FDSCAN_ALLOC_READ_ONLY=1 counts the probe's read alone (no document, no JSON).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startHolder } from './holder.js';
import { buildNativeTools, repoRoot } from './native.js';

/** In a child: `ROOT PID AUDITS PEERS`: audits as the CLI's --json path does, output to /dev/null. */
async function child([root, pid, audits, peers]: string[]): Promise<void> {
  const lib = await import(pathToFileURL(join(root!, 'dist', 'src', 'index.js')).href) as typeof import('../src/index.js');
  const json = await import(pathToFileURL(join(root!, 'dist', 'src', 'render', 'audit-json.js')).href) as typeof import('../src/render/audit-json.js');
  const { openSync, writeSync } = await import('node:fs');
  const out = openSync('/dev/null', 'w');
  let rows = 0;
  for (let i = 0; i < Number(audits); i++) {
    const audit = lib.auditProcesses([Number(pid)], { peers: peers === 'true' })[0]!.audit!;
    rows = audit.fds.length;
    if (process.env.FDSCAN_ALLOC_READ_ONLY === '1') continue;
    // As that checkout's CLI writes it: in pieces where it has jsonPieces, else as one string.
    const document = json.auditDocument(audit);
    if ('jsonPieces' in json) for (const piece of json.jsonPieces(document)) writeSync(out, piece);
    else writeSync(out, JSON.stringify(document));
    writeSync(out, '\n');
  }
  // A last collection, so that every byte allocated is counted in some allocated= line.
  (globalThis as { gc?: () => void }).gc?.();
  process.stderr.write(`rows=${rows}\n`);
}

/** Bytes V8 allocated in a child making `audits` audits (the sum of allocated= over its collections). */
function allocated(root: string, pid: number, audits: number, peers: boolean): { bytes: number; rows: number } {
  const run = spawnSync(process.execPath, ['--trace-gc-nvp', '--expose-gc', fileURLToPath(import.meta.url), '--child', root, String(pid), String(audits), String(peers)],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`child failed: ${run.stderr}`);
  let bytes = 0;
  // V8 now and then prints a count that wrapped below zero as an unsigned 64-bit number
  // (allocated=18446744073...): such a line is no measure and is left out.
  for (const match of run.stdout.matchAll(/\ballocated=(\d+)/g)) {
    const value = Number(match[1]);
    if (value <= Number.MAX_SAFE_INTEGER) bytes += value;
  }
  return { bytes, rows: Number(/rows=(\d+)/.exec(run.stderr)?.[1] ?? 0) };
}

async function main(args: string[]): Promise<void> {
  const flag = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const root = flag('--checkout') ?? repoRoot;
  const n = Number(flag('--holder') ?? 10000);
  const peers = !args.includes('--no-peers');
  const holder = await startHolder(n, buildNativeTools().holder);
  try {
    const perRow: number[] = [];
    for (let i = 0; i < 3; i++) {
      const low = allocated(root, holder.pid, 2, peers);
      const high = allocated(root, holder.pid, 8, peers);
      perRow.push((high.bytes - low.bytes) / (6 * high.rows));
    }
    perRow.sort((a, b) => a - b);
    process.stdout.write(`${root}: ${n} descriptors${peers ? '' : ' --no-peers'}: JS heap allocated per row ${perRow.map((b) => Math.round(b)).join(', ')} B (median ${Math.round(perRow[1]!)})\n`);
  } finally {
    await holder.stop();
  }
}

if (process.argv[2] === '--child') await child(process.argv.slice(3));
else await main(process.argv.slice(2));
