/** The gate's reports: the human summary, `fdscan/gate@1` JSON, JUnit XML and GitHub Actions annotations. */
import type { TraceResult } from '../trace/trace-result.js';
import type { GateFinding, GateProcess, GateVerdict } from '../gate/gate-analysis.js';
import { paint, type Style } from './style.js';

export const GATE_SCHEMA = 'fdscan/gate@1';

/** One line naming a finding. */
export function describeFinding(f: GateFinding): string {
  if (f.kind === 'inherited') {
    return `fd ${f.fd} ${f.type} ${f.target} leaked to ${proc(f.receiver)}; opened by ${proc(f.opener)}`;
  }
  const what = f.descriptors.map((d) => `fd ${d.fd} ${d.type} ${d.target}`).join(', ');
  return `${proc(f.process)} re-executed itself ${f.held.length - 1} times holding ${f.held.join(', ')} descriptors: ` +
    `leaked [${f.leakedPerCycle.join(', ')}] file descriptors per cycle (${what})`;
}

function proc(p: GateProcess): string {
  return `${quoteArgv(p.argv)} (pid ${p.pid})`;
}

/** The summary printed on stderr. */
export function renderGateText(trace: TraceResult, verdict: GateVerdict, style: Style): string {
  const passed = verdict.findings.length === 0 && verdict.unverified.length === 0 && !verdict.inexact;
  const lines = [paint(style, 'bold', `fdscan gate: ${passed ? paint(style, 'green', 'passed') : paint(style, 'red', `${verdict.findings.length} finding${verdict.findings.length === 1 ? '' : 's'}`)}` +
    ` (${trace.processes.length} processes, exit status ${trace.exitCode})`)];
  for (const warning of trace.warnings) lines.push(paint(style, 'yellow', `warning: ${warning}`));
  if (verdict.inexact) lines.push(paint(style, 'red', `unverified: ${verdict.inexact}`));
  for (const u of verdict.unverified) lines.push(`  ${paint(style, 'red', 'unverified')}  ${proc(u.receiver)} ${u.exe}: ${u.reason}`);
  for (const f of verdict.findings) lines.push(`  ${paint(style, 'red', f.kind === 'inherited' ? 'leak' : 'growth')}  ${describeFinding(f)}`);
  for (const a of verdict.allowed) lines.push(`  ${paint(style, 'dim', `allowed (${a.spec})  fd ${a.fd} ${a.target} to ${proc(a.receiver)}`)}`);
  for (const d of verdict.ambient) lines.push(`  ${paint(style, 'yellow', 'ambient')}  fd ${d.fd} ${d.type} ${d.target}: fdscan received it from its environment (not blamed)`);
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
    const name = f.kind === 'inherited' ? `fd ${f.fd} ${f.target} -> pid ${f.receiver.pid}` : `re-exec growth pid ${f.process.pid}`;
    const message = describeFinding(f);
    return `    <testcase classname="fdscan.gate.${f.kind}" name="${xml(name)}">\n      <failure message="${xml(message)}" type="${f.kind}">${xml(message)}</failure>\n    </testcase>`;
  });
  if (cases.length === 0) cases.push('    <testcase classname="fdscan.gate" name="no descriptor leaks"/>');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="${xml(`fdscan gate: ${quoteArgv(trace.command)}`)}" tests="${cases.length}" failures="${verdict.findings.length}">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}

/** `::error` workflow commands, one per finding (GitHub Actions reads them from stdout and stderr). */
export function renderGithubAnnotations(verdict: GateVerdict): string {
  return verdict.findings.map((f) => `::error title=fdscan gate::${escapeCommand(describeFinding(f))}\n`).join('');
}

function escapeCommand(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function quoteArgv(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
