/**
 * `fdscan gate --baseline FILE`: the findings a codebase has today, recorded so that only new ones
 * fail the build (as linters bring a gate into an old codebase). An entry names a finding without
 * pids, descriptor numbers or temporary names, so that it matches the same leak in the next run:
 * the program that opened it, what it is (a path with temp-dir randomness replaced by `*`, else
 * its kind), and the program that received it; for a self-re-executing program, the program. Each
 * entry counts its findings: the baseline lets through exactly what it recorded, no more.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { UsageError } from '../errors.js';
import { readInputFile } from '../input-file.js';
import { openReportFile, type ReportFile } from '../report-file.js';
import type { GateFinding, GateVerdict } from './gate-analysis.js';
import type { Descriptor } from '../probe-contract.js';
import { linkShape, withoutDeletedSuffix } from '../probe-kit/link-text.js';

export const BASELINE_SCHEMA = 'fdscan/gate-baseline@2';
/** The first format: entries without counts, which let any number of the same leak through. */
const UNCOUNTED_SCHEMA = 'fdscan/gate-baseline@1';

/** One recorded kind of finding: what it is, and how many findings of it the baseline lets through. */
export interface BaselineEntry {
  kind: GateFinding['kind'];
  /** inherited: the program that opened the descriptor (or passed it on). */
  opener?: string;
  /** inherited: the descriptor, as `TYPE target` normalised. */
  descriptor?: string;
  /** inherited: the program that received it. */
  receiver?: string;
  /** reexec-growth: the program that re-executes itself. */
  program?: string;
  /** How many findings of it were recorded: open files that reached the receiver, or growing programs. */
  count: number;
}

/** An entry this run found more of than the baseline recorded: the findings beyond `recorded` fail. */
export interface BaselineExcess {
  entry: BaselineEntry;
  found: number;
}

/** What the baseline made of a run: entries no finding matched, and entries found more often than recorded. */
export interface BaselineMatch {
  stale: BaselineEntry[];
  exceeded: BaselineExcess[];
}

type EntryName = Omit<BaselineEntry, 'count'>;

/**
 * What each kind of finding stands for in a baseline, without pids, numbers or temporary names: one
 * entry per kind of finding (the compiler asks for a new kind's).
 */
const BASELINE_NAMES: { [K in GateFinding['kind']]: (f: Extract<GateFinding, { kind: K }>) => EntryName[] } = {
  // One entry per receiving program (each once).
  inherited: (f) => {
    const opener = programName(f.opener.argv, f.opener.exe);
    const descriptor = descriptorName(f.descriptor);
    const receivers = new Set(f.receivers.map((r) => programName(r.argv, r.exe)));
    return [...receivers].map((receiver) => ({ kind: f.kind, opener, descriptor, receiver }));
  },
  'reexec-growth': (f) => [{ kind: f.kind, program: programName(f.process.argv, f.exe) }],
};

/** What a finding stands for in a baseline (BASELINE_NAMES). */
export function baselineEntries(f: GateFinding): EntryName[] {
  return (BASELINE_NAMES[f.kind] as (f: GateFinding) => EntryName[])(f);
}

function entryKey(e: EntryName): string {
  return JSON.stringify([e.kind, e.opener ?? '', e.descriptor ?? '', e.receiver ?? '', e.program ?? '']);
}

/**
 * Mark as `baselined` the findings the baseline still has room for: each recorded entry lets
 * through as many findings as it counts, and a finding passes only when every program it reached
 * is recorded with room left. A second leaked pipe, or the same leak reaching a new program, fails.
 */
export function applyBaseline(verdict: GateVerdict, baseline: BaselineEntry[]): BaselineMatch {
  const room = new Map<string, number>();
  for (const e of baseline) room.set(entryKey(e), (room.get(entryKey(e)) ?? 0) + e.count);
  const found = new Map<string, number>();
  for (const f of verdict.findings) {
    const keys = baselineEntries(f).map(entryKey);
    for (const key of keys) found.set(key, (found.get(key) ?? 0) + 1);
    if (keys.every((key) => (room.get(key) ?? 0) > 0)) {
      for (const key of keys) room.set(key, room.get(key)! - 1);
      f.baselined = true;
    }
  }
  return {
    stale: baseline.filter((e) => !found.has(entryKey(e))),
    exceeded: baseline.filter((e) => (found.get(entryKey(e)) ?? 0) > e.count).map((entry) => ({ entry, found: found.get(entryKey(entry))! })),
  };
}

/** The counted entries of `findings`, sorted so that the file diffs well. */
function entriesOf(findings: GateFinding[]): BaselineEntry[] {
  const entries = new Map<string, BaselineEntry>();
  for (const f of findings) {
    for (const e of baselineEntries(f)) {
      const key = entryKey(e);
      const entry = entries.get(key);
      if (entry) entry.count++;
      else entries.set(key, { ...e, count: 1 });
    }
  }
  return [...entries.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e);
}

/** The baseline file for `entries`: one entry per line. */
function baselineDocument(entries: BaselineEntry[]): string {
  const lines = entries.map((e) => `    ${JSON.stringify(e)}`);
  return `{\n  "schema": "${BASELINE_SCHEMA}",\n  "entries": [\n${lines.join(',\n')}${lines.length > 0 ? '\n' : ''}  ]\n}\n`;
}

/** Read a baseline; a missing, malformed or uncounted (older) file is a usage error (the gate never guesses). */
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
  // Its entries say what leaked, not how often: read as counts of 1 they would fail builds, read as
  // "any number" they would let new leaks through; only the user can say which they meant.
  if (schema === UNCOUNTED_SCHEMA) {
    throw new UsageError(`baseline ${file} is from an older fdscan and does not count findings: record it again with --baseline ${file} --update-baseline`);
  }
  if (schema !== BASELINE_SCHEMA || !Array.isArray(entries)) {
    throw new UsageError(`${file} is not an fdscan baseline (schema ${BASELINE_SCHEMA} with "entries")`);
  }
  return entries.map((e: unknown) => {
    const entry = e as BaselineEntry;
    if (entry === null || typeof entry !== 'object' || !Object.hasOwn(BASELINE_NAMES, entry.kind) ||
      !Number.isSafeInteger(entry.count) || entry.count < 1) {
      throw new UsageError(`${file}: an entry is not a counted finding: ${JSON.stringify(e)}`);
    }
    return entry;
  });
}

/**
 * Write the baseline of `findings` and return its entries: to a path, or to a report file opened
 * before the command ran (so that a long run is not lost to a bad path).
 */
export function writeBaseline(file: string | ReportFile, findings: GateFinding[]): BaselineEntry[] {
  const entries = entriesOf(findings);
  (typeof file === 'string' ? openReportFile(file, '--baseline') : file).write(baselineDocument(entries));
  return entries;
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
    if (arg === '-c' || arg === '-e' || arg === '--eval') return `${name} ${arg}${scriptLine(argv[i + 1])}`;
    if (arg === '-m' && argv[i + 1] !== undefined) return `${name} -m ${argv[i + 1]}`;
    if (arg === '--') continue;
    if (!arg.startsWith('-')) return `${name} ${normalisePath(basename(arg))}`;
  }
  return name;
}

/** How many characters of a `-c` script's first line name it. */
const SCRIPT_LINE = 60;

/**
 * ` LINE`: the first non-empty line of a `-c` script, trimmed, cut to SCRIPT_LINE characters, its
 * temporary paths normalised; so that `sh -c 'cat'` and `sh -c 'grep x'` are two programs.
 */
function scriptLine(script: string | undefined): string {
  const line = script?.split('\n').map((l) => l.trim()).find((l) => l !== '');
  if (line === undefined) return '';
  const words = line.split(/(\s+|['"=:;,()])/).map((word) => (word.startsWith('/') ? normalisePath(word) : word)).join('');
  return ` ${Array.from(words).slice(0, SCRIPT_LINE).join('')}`;
}

/** A descriptor without what changes between runs: `REG /tmp/*` paths, `FIFO pipe` for an anonymous pipe, a socket's protocol and state. */
export function descriptorName(d: Descriptor): string {
  if (d.socket) {
    const { protocol, state, local } = d.socket;
    const path = protocol === 'unix' && local ? ` ${normalisePath(local)}` : '';
    return `SOCK ${protocol}${path}${state ? ` ${state}` : ''}`;
  }
  const shape = linkShape(d.target);
  if (shape.kind === 'pipe') return `${d.type} pipe`;
  if (shape.kind === 'path') return `${d.type} ${normalisePath(d.target)}`;
  if (d.target.startsWith('memfd:')) return `${d.type} ${withoutDeletedSuffix(d.target)}`;
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
