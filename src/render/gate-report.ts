/** The gate's reports: the human summary, `fdscan/gate@2` JSON, JUnit XML and GitHub Actions annotations. */
import type { TraceResult } from '../trace/trace-result.js';
import { PROTOCOL_TITLES, type ProtocolName } from '../trace/descriptor-protocols.js';
import { verdictPassed, type GateFinding, type GateOpener, type GateReceiver, type GateVerdict, type ReceivedGroup } from '../gate/gate-analysis.js';
import type { BaselineEntry } from '../gate/baseline.js';
import { paint, type Style } from './style.js';
import { describeDescriptor, descriptorTarget, escapeText, githubCommand, plural, shortArgv, xmlText } from './text.js';

export const GATE_SCHEMA = 'fdscan/gate@2';

/** How many receivers a text line names before "and N more", and protocol lines per protocol. */
const RECEIVERS_SHOWN = 3;
const PROTOCOL_LINES = 3;
/** Widths of a command line: the program a line is about, and each of a list of receivers. */
const ARGV_WIDTH = 100;
const RECEIVER_WIDTH = 60;

/** One line naming a finding, names escaped (JUnit, annotations). */
export function describeFinding(f: GateFinding): string {
  if (f.kind === 'inherited') {
    return `${describeDescriptor(f.descriptor)} ${openerText(f.opener)} leaked to ${receiversText(f.receivers)}. Fix: ${f.fix.text}`;
  }
  return `${growthText(f)}. Fix: ${f.fix.text}`;
}

function growthText(f: Extract<GateFinding, { kind: 'reexec-growth' }>): string {
  // One entry per object: `fd 3, 4, 5 REG /tmp/w/reloader.log`.
  const byTarget = new Map<string, { fds: number[]; d: (typeof f.descriptors)[number] }>();
  for (const d of f.descriptors) {
    const key = `${d.type}\0${d.target}`;
    const entry = byTarget.get(key);
    if (entry) entry.fds.push(d.fd);
    else byTarget.set(key, { fds: [d.fd], d });
  }
  const what = [...byTarget.values()].map(({ fds, d }) => `fd ${fds.join(', ')} ${escapeText(d.type)} ${descriptorTarget(d)}`).join('; ');
  return `${shortArgv(f.process.argv, ARGV_WIDTH)} (pid ${f.process.pid}) re-executed itself ${f.held.length - 1} times, holding ` +
    `${f.held.join(' → ')} descriptors beyond stdin, stdout and stderr: leaked [${f.leakedPerCycle.join(', ')}] file descriptors per cycle (${what})`;
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


/** The summary printed on stderr; `stale` is what the baseline holds that no finding matched. */
export function renderGateText(trace: TraceResult, verdict: GateVerdict, style: Style, stale: BaselineEntry[] = []): string {
  const fresh = verdict.findings.filter((f) => !f.baselined);
  const known = verdict.findings.length - fresh.length;
  const head = verdictPassed(verdict) ? paint(style, 'green', 'passed') : paint(style, 'red', plural(fresh.length, known > 0 ? 'new finding' : 'finding'));
  const notes = [
    ...(known > 0 ? [`${plural(known, 'finding')} in the baseline`] : []),
    plural(trace.processes.length, 'process', 'processes'),
    `exit status ${trace.exitCode}`,
  ];
  const lines = [paint(style, 'bold', `fdscan gate: ${head}`) + ` (${notes.join(', ')})`];
  for (const warning of trace.warnings) lines.push(paint(style, 'yellow', `warning: ${escapeText(warning)}`));
  if (verdict.inexact) lines.push(paint(style, 'red', `unverified: ${verdict.inexact}`));
  for (const u of verdict.unverified) lines.push(`  ${paint(style, 'red', 'unverified')}  ${shortArgv(u.receiver.argv, ARGV_WIDTH)} (pid ${u.receiver.pid}) ${escapeText(u.exe)}: ${escapeText(u.reason)}`);
  const indent = ' '.repeat(8);
  for (const f of fresh) {
    if (f.kind === 'inherited') {
      lines.push(`  ${paint(style, 'red', 'leak')}  ${describeDescriptor(f.descriptor)}`);
      lines.push(`${indent}${openerText(f.opener).slice(0, -1)}`);
      lines.push(`${indent}leaked to ${receiversText(f.receivers, f.fd)}`);
    } else {
      lines.push(`  ${paint(style, 'red', 'growth')}  ${growthText(f)}`);
    }
    lines.push(`${indent}${paint(style, 'cyan', 'fix:')} ${f.fix.text}`);
  }
  for (const f of verdict.findings) {
    if (!f.baselined) continue;
    const what = f.kind === 'inherited' ? `${describeDescriptor(f.descriptor)} to ${receiversText(f.receivers, f.fd)}` : growthText(f);
    lines.push(`  ${paint(style, 'dim', `known  ${what} (in the baseline)`)}`);
  }
  if (stale.length > 0) {
    lines.push(`  ${paint(style, 'dim', `baseline: ${plural(stale.length, 'entry', 'entries')} no longer found; --update-baseline drops ${stale.length === 1 ? 'it' : 'them'}`)}`);
  }
  const perProtocol = new Map<ProtocolName, number>();
  for (const p of verdict.protocol) {
    const n = (perProtocol.get(p.protocol) ?? 0) + 1;
    perProtocol.set(p.protocol, n);
    if (n <= PROTOCOL_LINES) lines.push(`  ${paint(style, 'green', 'protocol')}  ${groupText(p)}: passed by ${PROTOCOL_TITLES[p.protocol]} (${escapeText(p.variable)}), not blamed`);
  }
  for (const [protocol, n] of perProtocol) {
    if (n > PROTOCOL_LINES) lines.push(`  ${paint(style, 'green', 'protocol')}  and ${n - PROTOCOL_LINES} more open files passed by ${PROTOCOL_TITLES[protocol]} (--json lists them)`);
  }
  for (const a of verdict.allowed) lines.push(`  ${paint(style, 'dim', `allowed (${escapeText(a.spec)})  ${groupText(a)}`)}`);
  for (const d of verdict.ambient) lines.push(`  ${paint(style, 'yellow', 'ambient')}  ${describeDescriptor(d)}: fdscan received it from its environment (not blamed)`);
  return `${lines.join('\n')}\n`;
}

function groupText(g: ReceivedGroup): string {
  return `${describeDescriptor(g.descriptor)} to ${receiversText(g.receivers, g.fd)}`;
}

/**
 * `{"schema":"fdscan/gate@2","passed":bool,"command":[...],"exitCode":N,"method","warnings",
 * "findings":[{"kind":"inherited","fd","type","target","opener":{...},"receivers":[{process,pid,argv,exe,fd,via,from}],"fix"} |
 * {"kind":"reexec-growth","process":{...},"exe","held":[...],"leakedPerCycle":[...],"descriptors":[...],"fix"}],
 * "protocol":[...],"allowed":[...],"ambient":[...]}`; with a baseline, `baselined` on findings and `baseline`.
 */
export function gateDocument(trace: TraceResult, verdict: GateVerdict, stale?: BaselineEntry[]): Record<string, unknown> {
  const strip = <G extends { descriptor: unknown }>({ descriptor: _descriptor, ...rest }: G): Omit<G, 'descriptor'> => rest;
  return {
    schema: GATE_SCHEMA,
    passed: verdictPassed(verdict),
    unverified: verdict.unverified,
    ...(verdict.inexact ? { inexact: verdict.inexact } : {}),
    command: trace.command,
    exitCode: trace.exitCode,
    method: trace.method,
    warnings: trace.warnings,
    findings: verdict.findings.map((f) => (f.kind === 'inherited' ? strip(f) : f)),
    ...(stale ? { baseline: { stale } } : {}),
    protocol: verdict.protocol.map(strip),
    allowed: verdict.allowed.map(strip),
    ambient: verdict.ambient,
  };
}

/** JUnit XML: one failing testcase per finding not in the baseline, or one passing testcase when there is none. */
export function renderJunit(trace: TraceResult, verdict: GateVerdict): string {
  const fresh = verdict.findings.filter((f) => !f.baselined);
  const cases = fresh.map((f) => {
    const name = f.kind === 'inherited'
      ? `fd ${f.fd} ${descriptorTarget(f.descriptor)} -> ${f.receivers.length === 1 ? `pid ${f.receivers[0]!.pid}` : `${f.receivers.length} execs`}`
      : `re-exec growth pid ${f.process.pid}`;
    const message = describeFinding(f);
    return `    <testcase classname="fdscan.gate.${f.kind}" name="${xmlText(name)}">\n      <failure message="${xmlText(message)}" type="${f.kind}">${xmlText(message)}</failure>\n    </testcase>`;
  });
  if (cases.length === 0) cases.push('    <testcase classname="fdscan.gate" name="no descriptor leaks"/>');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="${xmlText(`fdscan gate: ${shortArgv(trace.command, 200)}`)}" tests="${cases.length}" failures="${fresh.length}">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}

/** `::error` workflow commands, one per finding not in the baseline (GitHub Actions reads them from stdout and stderr). */
export function renderGithubAnnotations(verdict: GateVerdict): string {
  return verdict.findings.filter((f) => !f.baselined).map((f) => githubCommand('error', { title: 'fdscan gate' }, describeFinding(f))).join('');
}
