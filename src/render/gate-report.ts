/** The gate's reports: the human summary, `fdscan/gate@1` JSON, JUnit XML and GitHub Actions annotations. */
import type { TraceResult } from '../trace/trace-result.js';
import type { GateFinding, GateOpener, GateProcess, GateVerdict } from '../gate/gate-analysis.js';
import { paint, type Style } from './style.js';
import { describeDescriptor, descriptorTarget, escapeText, githubCommand, plural, quoteArgv, xmlText } from './text.js';

export const GATE_SCHEMA = 'fdscan/gate@1';

/** One line naming a finding, names escaped. */
export function describeFinding(f: GateFinding): string {
  if (f.kind === 'inherited') {
    return `${describeDescriptor(f.descriptor)} leaked to ${proc(f.receiver)}; opened by ${openerText(f.opener)}`;
  }
  const what = f.descriptors.map(describeDescriptor).join(', ');
  // Counts joined by arrows, so that they do not read as a list of descriptor numbers.
  return `${proc(f.process)} re-executed itself ${plural(f.held.length - 1, 'time')}; descriptors held at each exec: ${f.held.join(' → ')}; ` +
    `leaked [${f.leakedPerCycle.join(', ')}] file descriptors per cycle (${what})`;
}

function proc(p: GateProcess): string {
  return `${quoteArgv(p.argv)} (pid ${p.pid})`;
}

/** The program that opened a descriptor; when its process exec'd since, which program it became. */
function openerText(o: GateOpener): string {
  return `${quoteArgv(o.argv)} (pid ${o.pid}${o.execdSince ? `, before it exec'd ${quoteArgv(o.execdSince)}` : ''})`;
}

/** The summary printed on stderr. */
export function renderGateText(trace: TraceResult, verdict: GateVerdict, style: Style): string {
  const passed = verdict.findings.length === 0 && verdict.unverified.length === 0 && !verdict.inexact;
  const lines = [paint(style, 'bold', `fdscan gate: ${passed ? paint(style, 'green', 'passed') : paint(style, 'red', `${verdict.findings.length} finding${verdict.findings.length === 1 ? '' : 's'}`)}` +
    ` (${plural(trace.processes.length, 'process', 'processes')}, exit status ${trace.exitCode})`)];
  for (const warning of trace.warnings) lines.push(paint(style, 'yellow', `warning: ${escapeText(warning)}`));
  if (verdict.inexact) lines.push(paint(style, 'red', `unverified: ${verdict.inexact}`));
  for (const u of verdict.unverified) lines.push(`  ${paint(style, 'red', 'unverified')}  ${proc(u.receiver)} ${escapeText(u.exe)}: ${escapeText(u.reason)}`);
  for (const f of verdict.findings) lines.push(`  ${paint(style, 'red', f.kind === 'inherited' ? 'leak' : 'growth')}  ${describeFinding(f)}`);
  for (const a of verdict.allowed) {
    lines.push(`  ${paint(style, 'dim', `allowed (${escapeText(a.spec)})  fd ${a.fd} ${escapeText(a.target)} to ${proc(a.receiver)}`)}`);
  }
  for (const d of verdict.ambient) lines.push(`  ${paint(style, 'yellow', 'ambient')}  ${describeDescriptor(d)}: fdscan received it from its environment (not blamed)`);
  return `${lines.join('\n')}\n`;
}

/**
 * `{"schema":"fdscan/gate@1","passed":bool,"command":[...],"exitCode":N,"method","warnings",
 * "findings":[{"kind":"inherited","fd","type","target","receiver":{process,pid,argv},"opener":{...}} |
 * {"kind":"reexec-growth","process":{...},"exe","held":[...],"leakedPerCycle":[...],"descriptors":[...]}],
 * "allowed":[...],"ambient":[...]}`.
 */
export function gateDocument(trace: TraceResult, verdict: GateVerdict): Record<string, unknown> {
  return {
    schema: GATE_SCHEMA,
    passed: verdict.findings.length === 0 && verdict.unverified.length === 0 && !verdict.inexact,
    unverified: verdict.unverified,
    ...(verdict.inexact ? { inexact: verdict.inexact } : {}),
    command: trace.command,
    exitCode: trace.exitCode,
    method: trace.method,
    warnings: trace.warnings,
    findings: verdict.findings.map((f) => {
      if (f.kind === 'inherited') {
        const { descriptor, ...rest } = f;
        return { ...rest, via: descriptor.via, ...(descriptor.from ? { from: descriptor.from } : {}) };
      }
      return f;
    }),
    allowed: verdict.allowed,
    ambient: verdict.ambient,
  };
}

/** JUnit XML: one failing testcase per finding, or one passing testcase when there is none. */
export function renderJunit(trace: TraceResult, verdict: GateVerdict): string {
  const cases = verdict.findings.map((f) => {
    const name = f.kind === 'inherited' ? `fd ${f.fd} ${descriptorTarget(f.descriptor)} -> pid ${f.receiver.pid}` : `re-exec growth pid ${f.process.pid}`;
    const message = describeFinding(f);
    return `    <testcase classname="fdscan.gate.${f.kind}" name="${xmlText(name)}">\n      <failure message="${xmlText(message)}" type="${f.kind}">${xmlText(message)}</failure>\n    </testcase>`;
  });
  if (cases.length === 0) cases.push('    <testcase classname="fdscan.gate" name="no descriptor leaks"/>');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="${xmlText(`fdscan gate: ${quoteArgv(trace.command)}`)}" tests="${cases.length}" failures="${verdict.findings.length}">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}

/** `::error` workflow commands, one per finding (GitHub Actions reads them from stdout and stderr). */
export function renderGithubAnnotations(verdict: GateVerdict): string {
  return verdict.findings.map((f) => githubCommand('error', { title: 'fdscan gate' }, describeFinding(f))).join('');
}
