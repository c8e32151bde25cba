/**
 * Programs of the tree that tried to trace (strace, gdb, a PTRACE_TRACEME) and were refused because
 * fdscan already is the tracer: the gate ran something else than the command does bare, so it has
 * no verdict to give on them (exit 2 unless --allow-ptrace).
 */
import type { TraceResult } from '../probe-kit/trace-result.js';
import { shortArgv } from './text.js';

const PROGRAM_WIDTH = 48;

/** The one line saying which program could not use ptrace under the gate, or undefined when none tried. */
export function ptraceRefusal(trace: TraceResult): string | undefined {
  const refused = trace.processes.filter((p) => p.ptraceRefused);
  const first = refused[0];
  if (!first) return undefined;
  const { request, target, program } = first.ptraceRefused!;
  const name = program ? shortArgv(program.argv.length > 0 ? program.argv : [program.exe], PROGRAM_WIDTH) : trace.command[0];
  const call = `ptrace(${request}${target === undefined ? '' : `, ${target}`})`;
  const whose = target === undefined ? 'its tracer' : `the tracer of pid ${target}`;
  const more = refused.length > 1 ? ` (and ${refused.length - 1} more ${refused.length === 2 ? 'process' : 'processes'})` : '';
  return `${name} (pid ${first.pid}) cannot run under the gate: its ${call} failed with EPERM because fdscan is ${whose}${more} ` +
    '(--allow-ptrace: judge the rest anyway)';
}
