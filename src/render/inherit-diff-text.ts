/** The readable report of `fdscan inherit-diff -- CMD`: the process tree, what each exec received beyond 0, 1, 2. */
import type { TraceResult, TracedDescriptor, TracedProcess } from '../trace/trace-result.js';
import { paint, type Style } from './style.js';
import { descriptorLine, escapeText, plural, quoteArgv } from './text.js';

const STDIO = 3;

/** The whole report, one line per process, exec and received descriptor. */
export function renderInheritDiff(trace: TraceResult, style: Style): string {
  const lines: string[] = [];
  const children = new Map<number, TracedProcess[]>();
  for (const p of trace.processes) {
    if (p.parent === undefined) continue;
    const list = children.get(p.parent) ?? [];
    list.push(p);
    children.set(p.parent, list);
  }
  const execCount = trace.processes.reduce((n, p) => n + p.execs.length, 0);
  const how = trace.method === 'ptrace' ? 'ptrace: every exec recorded' : 'sampled /proc: short processes may be missing';
  lines.push(paint(style, 'bold', `fdscan inherit-diff: ${plural(trace.processes.length, 'process', 'processes')}, ${plural(execCount, 'exec')} (${how}); exit status ${trace.exitCode}`));
  for (const warning of trace.warnings) lines.push(paint(style, 'yellow', `warning: ${escapeText(warning)}`));
  const stdioOnly = (d: TracedDescriptor): boolean => d.fd < STDIO;
  const visit = (p: TracedProcess, depth: number): void => {
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
      const extra = exec.received.filter((d) => !stdioOnly(d));
      const missing = [0, 1, 2].filter((fd) => !exec.received.some((d) => d.fd === fd));
      const note = extra.length === 0 ? 'received only 0, 1, 2' : `received 0, 1, 2 and ${extra.length} more`;
      lines.push(`${indent}  exec ${quoteArgv(exec.argv)}: ${note}${missing.length > 0 ? `; ${missing.join(', ')} closed` : ''}${exec.sampled ? ' (sampled)' : ''}`);
      if (exec.error) lines.push(`${indent}    ${paint(style, 'red', `error: ${escapeText(exec.error)}`)}`);
      for (const d of extra) lines.push(`${indent}    ${describeRow(d, trace, style)}`);
    }
    childrenBefore(Number.POSITIVE_INFINITY);
  };
  const root = trace.processes[0];
  if (root) visit(root, 0);
  return `${lines.join('\n')}\n`;
}

function describeRow(d: TracedDescriptor, trace: TraceResult, style: Style): string {
  const mark = d.ambient ? paint(style, 'yellow', 'a') : paint(style, 'red', '+');
  const error = d.error ? ` (${escapeText(d.error)})` : '';
  return `${mark} ${descriptorLine(d)}${error}  ${paint(style, 'dim', originOf(d, trace))}`;
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
