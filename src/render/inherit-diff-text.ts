/** The readable report of `fdscan inherit-diff -- CMD`: the process tree, what each exec received beyond 0, 1, 2. */
import type { ExecRecord, TraceResult, TracedDescriptor, TracedProcess } from '../probe-kit/trace-result.js';
import { PROTOCOL_TITLES, type ProtocolPass } from '../trace/descriptor-protocols.js';
import { objectKey } from '../audit/descriptor-identity.js';
import { ambientReceived, childrenByParent } from '../trace/trace-views.js';
import { paint, type Style } from './style.js';
import { descriptorLine, escapeText, plural, quoteArgv } from './text.js';
import { OriginIndex } from '../trace/origins.js';
import { originLines } from './origin-text.js';

const STDIO = 3;

/** What to leave out of the report. */
export interface InheritDiffTextOptions {
  /** Only the execs that received something beyond 0, 1, 2 and the ambient descriptors (and those whose table could not be read). */
  onlyExtra?: boolean;
}

/** Whether `exec` received a descriptor beyond 0, 1, 2 that is not ambient, or could not be read. */
export function receivedExtra(exec: ExecRecord): boolean {
  return exec.error !== undefined || exec.received.some((d) => d.fd >= STDIO && !d.ambient);
}


/**
 * The whole report: the ambient descriptors once at the top, then one line per process and exec,
 * and one per descriptor an exec received beyond 0, 1, 2 and the ambient ones.
 */
export function renderInheritDiff(trace: TraceResult, style: Style, options: InheritDiffTextOptions = {}): string {
  const lines: string[] = [];
  const children = childrenByParent(trace);
  const execCount = trace.processes.reduce((n, p) => n + p.execs.length, 0);
  const how = trace.method === 'ptrace' ? 'ptrace: every exec recorded'
    : trace.method === 'debug-api' ? 'debug API: every process read at its creation' : 'sampled /proc: short processes may be missing';
  lines.push(paint(style, 'bold', `fdscan inherit-diff: ${plural(trace.processes.length, 'process', 'processes')}, ${plural(execCount, 'exec')} (${how}); exit status ${trace.exitCode}`));
  for (const warning of trace.warnings) lines.push(paint(style, 'yellow', `warning: ${escapeText(warning)}`));
  lines.push(...ambientSection(trace, style));
  // With onlyExtra, a process is shown when it or a descendant has an exec to show.
  const shown = new Set<number>();
  if (options.onlyExtra) {
    for (const p of [...trace.processes].reverse()) {
      if (p.execs.some(receivedExtra) || (children.get(p.id) ?? []).some((c) => shown.has(c.id))) shown.add(p.id);
    }
    if (shown.size === 0) lines.push('no exec received anything beyond 0, 1, 2 and the ambient descriptors');
  }
  const origins = new OriginIndex(trace);
  /** Open files whose origin was shown already: later receivers refer to it. */
  const originShown = new Set<string>();
  const visit = (p: TracedProcess, depth: number): void => {
    if (options.onlyExtra && !shown.has(p.id)) return;
    const indent = '  '.repeat(depth);
    const exit = p.exit?.status === undefined ? '' : `, exit ${p.exit.status}${p.exit.signal ? ` (${p.exit.signal})` : ''}`;
    const how = p.parent === undefined ? 'started by fdscan' : `${p.createdBy} of ${trace.processes[p.parent]!.pid}`;
    lines.push(`${indent}${paint(style, 'cyan', `pid ${p.pid}`)} (${how}${exit})${p.execs.length === 0 ? ', no exec' : ''}`);
    const kids = children.get(p.id) ?? [];
    // Children appear under the program that was running when they were created.
    let next = 0;
    const childrenBefore = (seq: number): void => {
      while (next < kids.length && kids[next]!.seq < seq) visit(kids[next++]!, depth + 1);
    };
    for (const exec of p.execs) {
      childrenBefore(exec.seq);
      if (options.onlyExtra && !receivedExtra(exec)) continue;
      const extra = exec.received.filter((d) => d.fd >= STDIO && !d.ambient);
      const ambient = exec.received.filter((d) => d.fd >= STDIO && d.ambient).map((d) => d.fd);
      const missing = [0, 1, 2].filter((fd) => !exec.received.some((d) => d.fd === fd));
      const parts = ['0, 1, 2', ...(ambient.length > 0 ? [`ambient ${ambient.join(', ')}`] : [])];
      const note = extra.length === 0
        ? (ambient.length === 0 ? 'received only 0, 1, 2' : `received ${parts.join(' and ')}`)
        : `received ${parts.join(', ')} and ${extra.length} more`;
      lines.push(`${indent}  exec ${quoteArgv(exec.argv)}: ${note}${missing.length > 0 ? `; ${missing.join(', ')} closed` : ''}${exec.sampled ? ' (sampled)' : ''}`);
      if (exec.error) lines.push(`${indent}    ${paint(style, 'red', `error: ${escapeText(exec.error)}`)}`);
      for (const d of extra) {
        const pass = protocolOf(exec, d.fd);
        lines.push(`${indent}    ${describeRow(d, trace, style, pass)}`);
        if (pass || trace.origins === undefined) continue;
        const key = `${d.firstHolder.process}|${d.firstHolder.fd ?? d.fd}|${objectKey(d)}`;
        if (originShown.has(key)) {
          lines.push(`${indent}      ${paint(style, 'dim', 'origin as above')}`);
          continue;
        }
        originShown.add(key);
        for (const text of originLines(origins.at(p.id, d.fd, exec.seq, d.inode), p.pid)) lines.push(`${indent}      ${text}`);
      }
    }
    childrenBefore(Number.POSITIVE_INFINITY);
  };
  const root = trace.processes[0];
  if (root) visit(root, 0);
  return `${lines.join('\n')}\n`;
}

/** The ambient descriptors some exec received beyond 0, 1, 2, each said once with how many execs received it. */
function ambientSection(trace: TraceResult, style: Style): string[] {
  const ambient = ambientReceived(trace);
  if (ambient.length === 0) return [];
  return [
    'ambient: fdscan received these from its environment and the tree passed them on (listed here once, by number under each exec):',
    ...ambient.map(({ d, execs }) => `  ${paint(style, 'yellow', 'a')} ${descriptorLine(d)}  ${paint(style, 'dim', `received by ${plural(execs, 'exec')}`)}`),
  ];
}

function protocolOf(exec: ExecRecord, fd: number): ProtocolPass | undefined {
  return exec.protocols?.find((pass) => pass.fds.includes(fd));
}

function describeRow(d: TracedDescriptor, trace: TraceResult, style: Style, pass: ProtocolPass | undefined): string {
  const mark = pass ? paint(style, 'green', 'p') : paint(style, 'red', '+');
  const error = d.error ? ` (${escapeText(d.error)})` : '';
  const protocol = pass ? `passed by ${PROTOCOL_TITLES[pass.protocol]} (${escapeText(pass.variable)}); ` : '';
  return `${mark} ${descriptorLine(d)}${error}  ${paint(style, 'dim', protocol + originOf(d, trace))}`;
}

/** Where a descriptor came from, in words. */
function originOf(d: TracedDescriptor, trace: TraceResult): string {
  const first = d.ambient ? 'ambient: fdscan received it from its environment' : `first held by pid ${d.firstHolder.pid}`;
  if (d.via === 'self') return `opened by this process${d.ambient ? `; ${first}` : ''}`;
  if (!d.from) return first;
  const guess = d.from.match === 'identity' ? ', same file (not confirmed by kcmp)' : '';
  const source = d.from.process === undefined ? `fdscan (pid ${trace.tracerPid}) fd ${d.from.fd}` : `pid ${d.from.pid} fd ${d.from.fd}`;
  return `from ${source}${guess}; ${first}`;
}
