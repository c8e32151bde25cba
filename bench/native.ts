/**
 * The bench's helper programs (bench/native/*.c), compiled with the machine's cc into a temp
 * directory at bench time. Without a compiler the bench still runs: commands are timed from Node
 * (no peak memory), the holder falls back to bench/holder.py, and the C floor row is skipped.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/bench/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const nativeSources = join(repoRoot, 'bench', 'native');

export interface NativeTools {
  /** The compiler used, e.g. "cc (Debian 12.2.0-14) 12.2.0"; undefined when there is none. */
  compiler?: string;
  /** The command that runs it (cc, gcc, clang or $CC). */
  compilerCommand?: string;
  floor?: string;
  measure?: string;
  holder?: string;
  /** Why a program is missing, for the report. */
  notes: string[];
}

const PROGRAMS = ['floor', 'measure', 'holder'] as const;

/** The first C compiler on PATH ($CC, cc, gcc, clang), with its version line. */
export function findCompiler(env: NodeJS.ProcessEnv = process.env): { command: string; version: string } | undefined {
  for (const command of [env.CC, 'cc', 'gcc', 'clang'].filter((c): c is string => Boolean(c))) {
    const probe = spawnSync(command, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return { command, version: probe.stdout.split('\n')[0]!.trim() };
  }
  return undefined;
}

/** Compile floor, measure and holder into `outDir` (default: a fresh temp directory). */
export function buildNativeTools(outDir: string = mkdtempSync(join(tmpdir(), 'fdscan-bench-bin-'))): NativeTools {
  const compiler = findCompiler();
  const tools: NativeTools = { notes: [] };
  if (!compiler) {
    tools.notes.push('no C compiler (cc, gcc, clang): C floor skipped, timings taken from Node without peak memory');
    return tools;
  }
  tools.compiler = compiler.version;
  tools.compilerCommand = compiler.command;
  for (const name of PROGRAMS) {
    const output = join(outDir, name);
    const build = spawnSync(compiler.command, ['-O2', '-o', output, join(nativeSources, `${name}.c`)], { encoding: 'utf8' });
    if (build.status === 0) tools[name] = output;
    else tools.notes.push(`${name}.c did not compile: ${(build.stderr || build.error?.message || '').trim().split('\n')[0]}`);
  }
  return tools;
}
