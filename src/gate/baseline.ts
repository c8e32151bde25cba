/**
 * `fdscan gate --baseline FILE`: the findings a codebase has today, recorded so that only new ones
 * fail the build (as linters bring a gate into an old codebase). An entry names a finding without
 * pids, descriptor numbers or temporary names, so that it matches the same leak in the next run:
 * the program that opened it, what it is (a path with temp-dir randomness replaced by `*`, else
 * its kind), and the program that received it; for a self-re-executing program, the program. Each
 * entry counts its findings: the baseline lets through exactly what it recorded, no more.
 */
import { existsSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { readInputFile } from '../files/input-file.js';
import { openReportFile, type ReportFile } from '../files/report-file.js';
import type { GateFinding, GateVerdict } from './gate-finding.js';
import { descriptorName, programName } from './program-name.js';

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
