/**
 * `fdscan gate --baseline FILE`: the findings a codebase has today, recorded so that only new ones
 * fail the build (as linters bring a gate into an old codebase). An entry names a finding without
 * pids, descriptor numbers or temporary names, so that it matches the same leak in the next run:
 * the program that opened it, what it is (a path with temp-dir randomness replaced by `*`, else
 * its kind), and the program that received it; for a self-re-executing program, the program.
 */
import { accessSync, constants, existsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { UsageError } from '../errors.js';
import { readInputFile } from '../input-file.js';
import type { GateFinding, GateVerdict } from './gate-analysis.js';
import type { Descriptor } from '../probe-contract.js';

export const BASELINE_SCHEMA = 'fdscan/gate-baseline@1';

/** One recorded finding (one receiving program of an inherited leak). */
export interface BaselineEntry {
  kind: 'inherited' | 'reexec-growth';
  /** inherited: the program that opened the descriptor (or passed it on). */
  opener?: string;
  /** inherited: the descriptor, as `TYPE target` normalised. */
  descriptor?: string;
  /** inherited: the program that received it. */
  receiver?: string;
  /** reexec-growth: the program that re-executes itself. */
  program?: string;
}

/** The entries a finding stands for: one per receiving program of a leak, one for a growth. */
export function baselineEntries(f: GateFinding): BaselineEntry[] {
  if (f.kind === 'reexec-growth') return [{ kind: f.kind, program: programName(f.process.argv, f.exe) }];
  const opener = programName(f.opener.argv, f.opener.exe);
  const descriptor = descriptorName(f.descriptor);
  return f.receivers.map((r) => ({ kind: f.kind, opener, descriptor, receiver: programName(r.argv, r.exe) }));
}

function entryKey(e: BaselineEntry): string {
  return JSON.stringify([e.kind, e.opener ?? '', e.descriptor ?? '', e.receiver ?? '', e.program ?? '']);
}

/**
 * Mark the findings every entry of which is in `baseline` as `baselined`; returns the baseline's
 * entries that no finding matched any more (fixed since, or no longer reached).
 */
export function applyBaseline(verdict: GateVerdict, baseline: BaselineEntry[]): BaselineEntry[] {
  const known = new Set(baseline.map(entryKey));
  const seen = new Set<string>();
  for (const f of verdict.findings) {
    const keys = baselineEntries(f).map(entryKey);
    for (const key of keys) seen.add(key);
    if (keys.every((key) => known.has(key))) f.baselined = true;
  }
  return baseline.filter((e) => !seen.has(entryKey(e)));
}

/** The entries of `findings`, unique and sorted so that the file diffs well. */
function entriesOf(findings: GateFinding[]): BaselineEntry[] {
  const entries = new Map<string, BaselineEntry>();
  for (const f of findings) for (const e of baselineEntries(f)) entries.set(entryKey(e), e);
  return [...entries.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e);
}

/** The baseline file for `entries`: one entry per line. */
function baselineDocument(entries: BaselineEntry[]): string {
  const lines = entries.map((e) => `    ${JSON.stringify(e)}`);
  return `{\n  "schema": "${BASELINE_SCHEMA}",\n  "entries": [\n${lines.join(',\n')}${lines.length > 0 ? '\n' : ''}  ]\n}\n`;
}

/** Read a baseline; a missing or malformed file is a usage error (the gate never guesses an empty one). */
export function readBaseline(file: string): BaselineEntry[] {
  if (!existsSync(file)) throw new UsageError(`no baseline ${file}: write it first with --baseline ${file} --update-baseline`);
  const text = readInputFile(file, '--baseline');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`cannot read baseline ${file}: ${(error as Error).message}`);
  }
  const { schema, entries } = (doc ?? {}) as { schema?: unknown; entries?: unknown };
  if (schema !== BASELINE_SCHEMA || !Array.isArray(entries)) {
    throw new UsageError(`${file} is not an fdscan baseline (schema ${BASELINE_SCHEMA} with "entries")`);
  }
  return entries.map((e: unknown) => {
    const entry = e as BaselineEntry;
    if (entry === null || typeof entry !== 'object' || (entry.kind !== 'inherited' && entry.kind !== 'reexec-growth')) {
      throw new UsageError(`${file}: an entry is not a finding: ${JSON.stringify(e)}`);
    }
    return entry;
  });
}

/** Write the baseline of `findings` and return its entries (checkWritable first, so that a long run is not lost to a bad path). */
export function writeBaseline(file: string, findings: GateFinding[]): BaselineEntry[] {
  const entries = entriesOf(findings);
  writeFileSync(file, baselineDocument(entries));
  return entries;
}

/** A usage error now, rather than after the command ran, when `file` cannot be written. */
export function checkWritable(file: string): void {
  try {
    accessSync(existsSync(file) ? file : dirname(file), constants.W_OK);
  } catch (error) {
    throw new UsageError(`cannot write baseline ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

const INTERPRETERS = /^(python|pypy|node|nodejs|bun|deno|perl|ruby|php|sh|bash|dash|zsh|ksh|mksh|ash)$/;

/**
 * A program without what changes between runs: its executable's name with its version dropped
 * (`python3.11` is `python`), and for an interpreter what it runs: `python -m pytest`,
 * `python app.py`, `sh -c`.
 */
export function programName(argv: readonly string[], exe?: string): string {
  const path = exe && !exe.startsWith('(') ? exe : argv[0] ?? '?';
  const name = basename(path).replace(/[\d.]+$/, '').replace(/-?$/, '') || basename(path);
  if (!INTERPRETERS.test(name)) return name;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-c' || arg === '-e' || arg === '--eval') return `${name} ${arg}`;
    if (arg === '-m' && argv[i + 1] !== undefined) return `${name} -m ${argv[i + 1]}`;
    if (arg === '--') continue;
    if (!arg.startsWith('-')) return `${name} ${normalisePath(basename(arg))}`;
  }
  return name;
}

/** A descriptor without what changes between runs: `REG /tmp/*` paths, `FIFO pipe` for an anonymous pipe, a socket's protocol and state. */
export function descriptorName(d: Descriptor): string {
  if (d.socket) {
    const { protocol, state, local } = d.socket;
    const path = protocol === 'unix' && local ? ` ${normalisePath(local)}` : '';
    return `SOCK ${protocol}${path}${state ? ` ${state}` : ''}`;
  }
  if (/^pipe:\[\d+\]$/.test(d.target)) return `${d.type} pipe`;
  if (d.target.startsWith('/')) return `${d.type} ${normalisePath(d.target)}`;
  if (d.target.startsWith('memfd:')) return `${d.type} ${d.target.replace(/ \(deleted\)$/, '')}`;
  // anon_inode:[eventfd], socket:[123] and the like: the kind is all that stays.
  return d.type;
}

const TEMP_ROOTS = [...new Set([tmpdir(), '/tmp', '/var/tmp', '/dev/shm'].map((root) => root.replace(/\/+$/, '')))];

/**
 * `path` with the randomness of temporary names replaced by `*`, under a temporary directory only:
 * mkdtemp's and mktemp's random suffixes (`fdscan-gate-Ab3dE9`, `tmp.x8Fq2LzP0a`, `pymp-6drehw5_`),
 * Python's `tmpk3j_x9a2`, and in directory names any digits (`pytest-12`, `test_leak0`); pids under /proc.
 */
export function normalisePath(path: string): string {
  if (/^\/proc\/\d+\//.test(path)) return path.replace(/^\/proc\/\d+\//, '/proc/*/');
  const root = TEMP_ROOTS.find((r) => path.startsWith(`${r}/`));
  if (!root) return path;
  const parts = path.slice(root.length + 1).split('/');
  return `${root}/${parts.map((part, i) => {
    let out = part.replace(/^tmp[a-z0-9_]{8}/, 'tmp*');
    if (i < parts.length - 1) {
      out = out.replace(/([-_.])[A-Za-z0-9_]{6,}$/, '$1*').replace(/\d+/g, '*');
    } else {
      out = out.replace(/([-_.])(?=[A-Za-z0-9_]*\d)[A-Za-z0-9_]{6,}/g, '$1*');
    }
    return out;
  }).join('/')}`;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
