/**
 * The gate's reports: the human summary, `fdscan/gate@2` JSON, JUnit XML and GitHub Actions annotations.
 * How each kind of finding reads in all four is one entry of FINDING_VIEWS; what passes or fails is
 * the outcome (gate-outcome.ts), decided once.
 */
import type { TraceResult } from '../probe-kit/trace-result.js';
import { PROTOCOL_TITLES, type ProtocolName } from '../trace/descriptor-protocols.js';
import type { GateFinding, GateOpener, GateReceiver, GateVerdict, InheritedLeak, ReceivedGroup, ReexecGrowth } from '../gate/gate-finding.js';
import { gateOutcome, type GateOutcome, type OutcomeReason } from '../gate/gate-outcome.js';
import type { BaselineEntry, BaselineMatch } from '../gate/baseline.js';
import { programName } from '../gate/program-name.js';
import { paintSpans, spansWidth, wrapSpans, type Span } from './fit.js';
import type { Paint, Style } from './style.js';
import { describeDescriptor, descriptorTarget, escapeText, githubCommand, plural, shortArgv, xmlText } from './text.js';
import { originLines } from './origin-text.js';

export const GATE_SCHEMA = 'fdscan/gate@2';

/** One line of the text report, in painted spans. */
export type TextLine = Span[];

/** How many receivers a text line names before "and N more", and protocol lines per protocol. */
const RECEIVERS_SHOWN = 3;
const PROTOCOL_LINES = 3;
/** Widths of a command line: the program a line is about, and each of a list of receivers. */
const ARGV_WIDTH = 100;
const RECEIVER_WIDTH = 60;
/** A list of numbers longer than this is shown by its first few and its last (2,000 re-execs: one short line). */
const NUMBERS_SHOWN = 8;

/**
 * Findings of one kind from one place: the same opener program, the same receiving programs and the
 * same type of descriptor (a test suite's 50 leaked pipes from one helper). The text, JUnit and
 * annotations show one entry per group with its count; JSON lists every finding.
 */
export interface FindingGroup {
  findings: GateFinding[];
}

/**
 * How one kind of finding reads in every report. `findings` is a group (groupFindings): one finding,
 * or several with the same group key. A new kind of finding is one more entry in FINDING_VIEWS.
 */
export interface FindingView<F extends GateFinding> {
  /** Findings of the kind with the same key are one group in text, JUnit and annotations; undefined: a group of its own. */
  groupKey(f: F): string | undefined;
  /** One line naming one finding, without its fix (JUnit failure text, annotations). */
  describe(f: F): string;
  /** One line naming a group, without its fix (JUnit failure message, annotations). */
  describeGroup(findings: F[]): string;
  /** The text report's lines for a group, before its fix. */
  lines(findings: F[]): TextLine[];
  /** The text report's line for a group in the baseline, after `known`. */
  known(findings: F[]): string;
  /** The JUnit testcase's name. */
  testcase(findings: F[]): string;
  /** The finding in `fdscan/gate@2` JSON. */
  json(f: F): unknown;
  /** A baseline entry of the kind in words. */
  entry(e: BaselineEntry): string;
}

/** Every kind of finding and how it reads: one entry per kind (the compiler asks for a new kind's). */
const FINDING_VIEWS: { [K in GateFinding['kind']]: FindingView<Extract<GateFinding, { kind: K }>> } = {
  inherited: {
    groupKey: (f) => JSON.stringify([programName(f.opener.argv, f.opener.exe), [...new Set(f.receivers.map((r) => programName(r.argv, r.exe)))].sort(), f.type]),
    describe: (f) => `${describeDescriptor(f.descriptor)} ${openerText(f.opener)} leaked to ${receiversText(f.receivers)}`,
    describeGroup: (leaks) => (leaks.length === 1
      ? FINDING_VIEWS.inherited.describe(leaks[0]!)
      : `${groupHead(leaks)} ${openersText(leaks)} leaked to ${receiversText(groupReceivers(leaks))}`),
    lines: leakLines,
    known: (leaks) => (leaks.length === 1
      ? `${describeDescriptor(leaks[0]!.descriptor)} to ${receiversText(leaks[0]!.receivers, leaks[0]!.fd)}`
      : `${groupHead(leaks)} to ${receiversText(groupReceivers(leaks))}`),
    testcase: leakTestcase,
    json: strip,
    entry: (e) => `${e.descriptor} from ${e.opener} to ${e.receiver}`,
  },
  'reexec-growth': {
    groupKey: () => undefined,
    describe: growthText,
    describeGroup: (growths) => growthText(growths[0]!),
    lines: (growths) => growthLines(growths[0]!),
    known: (growths) => growthText(growths[0]!),
    testcase: (growths) => `re-exec growth pid ${growths[0]!.process.pid}`,
    json: (f) => f,
    entry: (e) => `${e.program} re-executing itself`,
  },
};

/** The view of `f`'s kind, for a finding (or a group) of that kind. */
function viewOf(f: GateFinding): FindingView<GateFinding> {
  return FINDING_VIEWS[f.kind] as FindingView<GateFinding>;
}

/** The findings grouped as the reports show them, in the order their first findings came. */
export function groupFindings(findings: readonly GateFinding[]): FindingGroup[] {
  const groups = new Map<string, FindingGroup>();
  findings.forEach((f, i) => {
    const own = viewOf(f).groupKey(f);
    const key = own === undefined ? `${f.kind} ${i}` : `${f.kind} ${own}`;
    const group = groups.get(key);
    if (group) group.findings.push(f);
    else groups.set(key, { findings: [f] });
  });
  return [...groups.values()];
}

/** One line naming a finding, names escaped (JUnit, annotations). */
export function describeFinding(f: GateFinding): string {
  return `${viewOf(f).describe(f)}. Fix: ${f.fix.text}`;
}

/** One line naming a group: the finding itself, or the count, the first descriptors, the programs and the fix once. */
function describeGroup(g: FindingGroup): string {
  const [first] = g.findings as [GateFinding];
  return `${viewOf(first).describeGroup(g.findings)}. Fix: ${first.fix.text}`;
}

/** `50 FIFO descriptors: fd 3 FIFO pipe:[1], fd 4 FIFO pipe:[2], fd 5 FIFO pipe:[3] and 47 more`. */
function groupHead(leaks: InheritedLeak[]): string {
  const shown = leaks.slice(0, RECEIVERS_SHOWN).map((f) => describeDescriptor(f.descriptor)).join(', ');
  const more = leaks.length - RECEIVERS_SHOWN;
  return `${leaks.length} ${escapeText(leaks[0]!.type)} descriptors: ${shown}${more > 0 ? ` and ${more} more` : ''}`;
}

/** The first finding's opener, and how many other processes of the same program opened the others. */
function openersText(leaks: InheritedLeak[]): string {
  const others = new Set(leaks.map((f) => f.opener.process)).size - 1;
  const text = openerText(leaks[0]!.opener);
  return others > 0 ? `${text.slice(0, -1)} and ${plural(others, 'other process', 'other processes')} of that program,` : text;
}

/** Every exec that received a descriptor of the group, each once. */
function groupReceivers(leaks: InheritedLeak[]): GateReceiver[] {
  const seen = new Set<string>();
  const receivers: GateReceiver[] = [];
  for (const f of leaks) {
    for (const r of f.receivers) {
      const key = `${r.process}\0${r.argv.join('\0')}`;
      if (!seen.has(key)) { seen.add(key); receivers.push(r); }
    }
  }
  return receivers;
}

/** `0 → 1 → 2`, or for a long list `0 → 1 → 2 → … → 2000`. */
function numbersText(values: readonly number[], separator: string): string {
  if (values.length <= NUMBERS_SHOWN) return values.join(separator);
  return `${values.slice(0, 3).join(separator)}${separator}…${separator}${values[values.length - 1]}`;
}

function growthText(f: ReexecGrowth): string {
  // One entry per object: `fd 3, 4, 5 REG /tmp/w/reloader.log`.
  const byTarget = new Map<string, { fds: number[]; d: (typeof f.descriptors)[number] }>();
  for (const d of f.descriptors) {
    const key = `${d.type}\0${d.target}`;
    const entry = byTarget.get(key);
    if (entry) entry.fds.push(d.fd);
    else byTarget.set(key, { fds: [d.fd], d });
  }
  const shown = [...byTarget.values()];
  const what = shown.slice(0, RECEIVERS_SHOWN).map(({ fds, d }) => `fd ${numbersText(fds, ', ')} ${escapeText(d.type)} ${descriptorTarget(d)}`).join('; ') +
    (shown.length > RECEIVERS_SHOWN ? `; and ${shown.length - RECEIVERS_SHOWN} more files` : '');
  const cycles = f.leakedPerCycle.length;
  const growth = cycles > NUMBERS_SHOWN ? ` over ${cycles} cycles, ${f.held[f.held.length - 1]! - f.held[0]!} more at the last exec than at the first` : '';
  return `${shortArgv(f.process.argv, ARGV_WIDTH)} (pid ${f.process.pid}) re-executed itself ${cycles} times, holding ` +
    `${numbersText(f.held, ' → ')} descriptors beyond stdin, stdout and stderr: leaked [${numbersText(f.leakedPerCycle, ', ')}] ` +
    `file descriptors per cycle${growth} (${what})`;
}

/** `sh -c … (pid 12)`, and the number it received when the opener held it at another. */
function receiverText(r: GateReceiver, openerFd: number | undefined, width: number): string {
  return `${shortArgv(r.argv, width)} (pid ${r.pid}${openerFd !== undefined && r.fd !== openerFd ? `, as fd ${r.fd}` : ''})`;
}

/** `20 execs: a (pid 1), b (pid 2), c (pid 3) and 17 more`, or the one receiver. */
function receiversText(receivers: GateReceiver[], openerFd?: number): string {
  if (receivers.length === 1) return receiverText(receivers[0]!, openerFd, ARGV_WIDTH);
  const shown = receivers.slice(0, RECEIVERS_SHOWN).map((r) => receiverText(r, openerFd, RECEIVER_WIDTH)).join(', ');
  const more = receivers.length - RECEIVERS_SHOWN;
  return `${receivers.length} execs: ${shown}${more > 0 ? ` and ${more} more` : ''}`;
}

/** Who let a descriptor out: the program that opened it, or the one that received it by protocol and passed it on. */
function openerText(o: GateOpener): string {
  // Processes sharing one table (CLONE_FILES): the tracer cannot tell which of them opened it.
  const sharers = o.sharedTable ? `; or ${o.sharedTable.map((pid) => `pid ${pid}`).join(' or ')}, which shared its descriptor table` : '';
  const who = `${shortArgv(o.argv, ARGV_WIDTH)} (pid ${o.pid}${o.execdSince ? `, before it exec'd ${shortArgv(o.execdSince, RECEIVER_WIDTH)}` : ''}${sharers})`;
  return o.receivedBy ? `received by ${who} through ${PROTOCOL_TITLES[o.receivedBy]} and passed on,` : `opened by ${who},`;
}


/** What a report needs besides the trace and verdict: the outcome (decided once) and what the baseline made of the run. */
export interface GateReportContext {
  outcome?: GateOutcome;
  baseline?: BaselineMatch;
}

function outcomeOf(trace: TraceResult, verdict: GateVerdict, context: GateReportContext): GateOutcome {
  return context.outcome ?? gateOutcome(verdict, { commandExitCode: trace.exitCode });
}

/** Origins shown under a group of findings. */
const ORIGINS_SHOWN = 1;
const INDENT = ' '.repeat(8);

/** The summary printed on stderr, fitted to `style.width` when it is a terminal's. */
export function renderGateText(trace: TraceResult, verdict: GateVerdict, style: Style, context: GateReportContext = {}): string {
  const outcome = outcomeOf(trace, verdict, context);
  const fresh = verdict.findings.filter((f) => !f.baselined);
  const known = verdict.findings.length - fresh.length;
  const findings = outcome.reasons.find((r) => r.kind === 'findings');
  const head: Span = outcome.passed
    ? { text: 'passed', paint: 'green' }
    : { text: findings ? plural(findings.count, known > 0 ? 'new finding' : 'finding') : 'failed', paint: 'red' };
  const notes = [
    ...(known > 0 ? [`${plural(known, 'finding')} in the baseline`] : []),
    plural(trace.processes.length, 'process', 'processes'),
    `exit status ${trace.exitCode}`,
  ];
  const lines: TextLine[] = [[{ text: 'fdscan gate: ', paint: 'bold' }, head, { text: ` (${notes.join(', ')})` }]];
  for (const warning of trace.warnings) lines.push([{ text: `warning: ${escapeText(warning)}`, paint: 'yellow' }]);
  for (const reason of outcome.reasons) if (reason.kind !== 'findings') lines.push(reasonLine(reason));
  for (const u of verdict.unverified) {
    lines.push([{ text: '  ' }, { text: 'unverified', paint: outcome.passed ? 'yellow' : 'red' },
      { text: `  ${shortArgv(u.receiver.argv, ARGV_WIDTH)} (pid ${u.receiver.pid}) ${escapeText(u.exe)}: ${escapeText(u.reason)}` }]);
  }
  for (const g of groupFindings(fresh)) lines.push(...groupLines(g));
  for (const g of groupFindings(verdict.findings.filter((f) => f.baselined))) {
    const [first] = g.findings as [GateFinding];
    lines.push([{ text: `  known  ${viewOf(first).known(g.findings)} (in the baseline)`, paint: 'dim' }]);
  }
  for (const { entry, found } of context.baseline?.exceeded ?? []) {
    lines.push([{ text: '  ' }, { text: 'baseline', paint: 'red' }, { text: `  ${entryText(entry)}: recorded ${entry.count}, found ${found}: the ${found - entry.count} beyond the baseline fail` }]);
  }
  const stale = context.baseline?.stale ?? [];
  if (stale.length > 0) {
    lines.push([{ text: `  baseline: ${plural(stale.length, 'entry', 'entries')} no longer found; --update-baseline drops ${stale.length === 1 ? 'it' : 'them'}`, paint: 'dim' }]);
  }
  const perProtocol = new Map<ProtocolName, number>();
  for (const p of verdict.protocol) {
    const n = (perProtocol.get(p.protocol) ?? 0) + 1;
    perProtocol.set(p.protocol, n);
    if (n <= PROTOCOL_LINES) lines.push(labelled('green', 'protocol', `${groupText(p)}: passed by ${PROTOCOL_TITLES[p.protocol]} (${escapeText(p.variable)}), not blamed`));
  }
  for (const [protocol, n] of perProtocol) {
    if (n > PROTOCOL_LINES) lines.push(labelled('green', 'protocol', `and ${n - PROTOCOL_LINES} more open files passed by ${PROTOCOL_TITLES[protocol]} (--json lists them)`));
  }
  for (const a of verdict.allowed) lines.push([{ text: `  allowed (${escapeText(a.spec)})  ${groupText(a)}`, paint: 'dim' }]);
  for (const d of verdict.ambient) lines.push(labelled('yellow', 'ambient', `${describeDescriptor(d)}: fdscan received it from its environment (not blamed)`));
  return `${fitLines(lines, style).join('\n')}\n`;
}

/** `  LABEL  text`, the label painted. */
function labelled(color: Paint, label: string, text: string): TextLine {
  return [{ text: '  ' }, { text: label, paint: color }, { text: `  ${text}` }];
}

/** A reason other than findings: red when it fails the gate, yellow with the option that let it through. */
function reasonLine(reason: OutcomeReason): TextLine {
  return reason.fails
    ? [{ text: reason.summary, paint: 'red' }]
    : [{ text: `${reason.summary} (let through by ${reason.allowedBy})`, paint: 'yellow' }];
}

/** The lines of one group: what it is, who let it out, who received it, and the fix once. */
function groupLines(g: FindingGroup): TextLine[] {
  const [first] = g.findings as [GateFinding];
  const fix: TextLine = [{ text: INDENT }, { text: 'fix:', paint: 'cyan' }, { text: ` ${first.fix.text}` }];
  return [...viewOf(first).lines(g.findings), fix];
}

/** A leak's lines: the descriptor (or the group's head), its opener, origins and receivers. */
function leakLines(leaks: InheritedLeak[]): TextLine[] {
  const [first] = leaks as [InheritedLeak];
  const originText = (leak: InheritedLeak, prefix: string): TextLine[] =>
    (leak.origin ? originLines(leak.origin, leak.opener.pid) : []).map((text, i) => [{ text: `${INDENT}${i === 0 ? prefix : ' '.repeat(prefix.length)}${text}` }]);
  if (leaks.length === 1) {
    return [
      labelled('red', 'leak', describeDescriptor(first.descriptor)),
      [{ text: `${INDENT}${openerText(first.opener).slice(0, -1)}` }],
      ...(first.origin ? originText(first, '') : []),
      [{ text: `${INDENT}leaked to ${receiversText(first.receivers, first.fd)}` }],
    ];
  }
  return [
    labelled('red', 'leak', groupHead(leaks)),
    [{ text: `${INDENT}${openersText(leaks).slice(0, -1)}` }],
    // Each open file's own origin, for the first few.
    ...leaks.slice(0, ORIGINS_SHOWN).flatMap((leak) => (leak.origin ? originText(leak, `fd ${leak.fd}: `) : [])),
    ...(leaks.length > ORIGINS_SHOWN ? [[{ text: `${INDENT}and ${leaks.length - ORIGINS_SHOWN} more origins (--json lists them)` }]] : []),
    [{ text: `${INDENT}leaked to ${receiversText(groupReceivers(leaks))}` }],
  ];
}

/** A growth's lines: the chain, and the origin of the first descriptor it gained. */
function growthLines(f: ReexecGrowth): TextLine[] {
  const gained = f.origins?.[0];
  const origin: TextLine[] = gained ? originLines(gained, f.process.pid).map((text, i) => [{ text: `${INDENT}${i === 0 ? `fd ${f.descriptors[0]!.fd}: ` : '      '}${text}` }]) : [];
  return [labelled('red', 'growth', growthText(f)), ...origin];
}

/** A baseline entry in words: `FIFO pipe from python app.py to cat`. */
function entryText(e: BaselineEntry): string {
  return escapeText(FINDING_VIEWS[e.kind].entry(e));
}

/**
 * The lines painted, each cut to the terminal's width when there is one (the rule the tables use:
 * style.width): broken between words where it can, the rest indented under the text it continues.
 */
function fitLines(lines: TextLine[], style: Style): string[] {
  const width = style.width;
  const out: string[] = [];
  for (const spans of lines) {
    if (width === undefined || spansWidth(spans) <= width) { out.push(paintSpans(spans, style)); continue; }
    const indent = Math.min(INDENT.length, Math.floor(width / 4));
    const [first, ...rest] = wrapSpans(spans, width - indent, style, true);
    out.push(first!.text, ...rest.map((line) => ' '.repeat(indent) + line.text));
  }
  return out;
}

function groupText(g: ReceivedGroup): string {
  return `${describeDescriptor(g.descriptor)} to ${receiversText(g.receivers, g.fd)}`;
}

/**
 * `{"schema":"fdscan/gate@2","passed":bool,"exitStatus":N,"reasons":[...],"command":[...],"exitCode":N,"method","warnings",
 * "findings":[{"kind":"inherited","fd","type","target","opener":{...},"receivers":[{process,pid,argv,exe,fd,via,from}],"fix"} |
 * {"kind":"reexec-growth","process":{...},"exe","held":[...],"leakedPerCycle":[...],"descriptors":[...],"fix"}],
 * "protocol":[...],"allowed":[...],"ambient":[...]}`; every finding, not grouped; with a baseline, `baselined` on
 * findings and `baseline` ({stale, exceeded}). `passed`, `exitStatus` and `reasons` are the gate's outcome.
 */
export function gateDocument(trace: TraceResult, verdict: GateVerdict, context: GateReportContext = {}): Record<string, unknown> {
  const outcome = outcomeOf(trace, verdict, context);
  return {
    schema: GATE_SCHEMA,
    passed: outcome.passed,
    exitStatus: outcome.exitStatus,
    reasons: outcome.reasons,
    unverified: verdict.unverified,
    ...(verdict.inexact ? { inexact: verdict.inexact } : {}),
    command: trace.command,
    exitCode: trace.exitCode,
    method: trace.method,
    warnings: trace.warnings,
    findings: verdict.findings.map((f) => viewOf(f).json(f)),
    ...(context.baseline ? { baseline: context.baseline } : {}),
    protocol: verdict.protocol.map(strip),
    allowed: verdict.allowed.map(strip),
    ambient: verdict.ambient,
  };
}

/** A group without its first receiver's row (JSON lists `fd`, `type` and `target` instead). */
function strip<G extends { descriptor: unknown }>({ descriptor: _descriptor, ...rest }: G): Omit<G, 'descriptor'> {
  return rest;
}

/** The name of a group's testcase: what, and whom it reached. */
function groupName(g: FindingGroup): string {
  return viewOf(g.findings[0]!).testcase(g.findings);
}

/** A leak's testcase: `fd 3 /tmp/x.log -> pid 12`, or for a group `50 x FIFO from python a.py -> cat`. */
function leakTestcase(leaks: InheritedLeak[]): string {
  const [first] = leaks as [InheritedLeak];
  if (leaks.length === 1) {
    return `fd ${first.fd} ${descriptorTarget(first.descriptor)} -> ${first.receivers.length === 1 ? `pid ${first.receivers[0]!.pid}` : `${first.receivers.length} execs`}`;
  }
  const receivers = [...new Set(first.receivers.map((r) => programName(r.argv, r.exe)))].join(', ');
  return escapeText(`${leaks.length} x ${first.type} from ${programName(first.opener.argv, first.opener.exe)} -> ${receivers}`);
}

/**
 * JUnit XML: one failing testcase per group of findings not in the baseline (its count in the name and
 * message, every finding in the failure's text), one per other reason of the outcome (failing, or skipped when an option let it through),
 * or one passing testcase when there is nothing.
 */
export function renderJunit(trace: TraceResult, verdict: GateVerdict, context: GateReportContext = {}): string {
  const outcome = outcomeOf(trace, verdict, context);
  const testcase = (kind: string, name: string, body: string): string =>
    `    <testcase classname="fdscan.gate.${kind}" name="${xmlText(name)}">\n      ${body}\n    </testcase>`;
  const failure = (kind: string, message: string, body = message): string => `<failure message="${xmlText(message)}" type="${kind}">${xmlText(body)}</failure>`;
  // The message is the group's line; the body, which CI shows when the failure is opened, every finding of it.
  const cases = groupFindings(verdict.findings.filter((f) => !f.baselined)).map((g) => testcase(g.findings[0]!.kind, groupName(g),
    failure(g.findings[0]!.kind, describeGroup(g), g.findings.map(describeFinding).join('\n'))));
  let failures = cases.length;
  for (const reason of outcome.reasons) {
    if (reason.kind === 'findings') continue;
    const message = reasonMessage(reason, verdict);
    if (reason.fails) failures++;
    cases.push(testcase(reason.kind, reason.summary, reason.fails ? failure(reason.kind, message) : `<skipped message="${xmlText(`${message} (let through by ${reason.allowedBy})`)}"/>`));
  }
  if (cases.length === 0) cases.push('    <testcase classname="fdscan.gate" name="no descriptor leaks"/>');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="${xmlText(`fdscan gate: ${shortArgv(trace.command, 200)}`)}" tests="${cases.length}" failures="${failures}">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}

/** A reason with what it is about: the unverified execs named. */
function reasonMessage(reason: OutcomeReason, verdict: GateVerdict): string {
  if (reason.kind !== 'unverified') return reason.summary;
  const execs = verdict.unverified.map((u) => `${shortArgv(u.receiver.argv, RECEIVER_WIDTH)} (pid ${u.receiver.pid}) ${escapeText(u.exe)}: ${escapeText(u.reason)}`);
  return `${reason.summary}: ${execs.join('; ')}`;
}

/**
 * Workflow commands (GitHub Actions reads them from stdout and stderr): one `::error` per group of
 * findings not in the baseline, with its count; one per other reason, `::warning` when an option let it through.
 */
export function renderGithubAnnotations(trace: TraceResult, verdict: GateVerdict, context: GateReportContext = {}): string {
  const outcome = outcomeOf(trace, verdict, context);
  const groups = groupFindings(verdict.findings.filter((f) => !f.baselined)).map((g) => githubCommand('error', { title: 'fdscan gate' }, describeGroup(g)));
  const reasons = outcome.reasons.filter((r) => r.kind !== 'findings').map((r) => r.fails
    ? githubCommand('error', { title: 'fdscan gate' }, reasonMessage(r, verdict))
    : githubCommand('warning', { title: 'fdscan gate' }, `${reasonMessage(r, verdict)} (let through by ${r.allowedBy})`));
  return [...groups, ...reasons].join('');
}
