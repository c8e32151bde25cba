/**
 * Why a trace is less than exact, in words for its warnings: why origins are not traced, and why
 * PTRACE_SEIZE of the stub was refused. Reads /proc/sys/kernel/yama/ptrace_scope and the
 * TracerPid of /proc/.../status (fdscan's own thread and the stub's); each read that fails only
 * leaves its cause out.
 */
import { readFileSync } from 'node:fs';
import type { TraceRequest } from '../../src/probe-kit/index.js';
import { nativeArch } from './descriptor-calls.js';
import { tracerOf } from './process-info.js';

/**
 * Why origins are not traced for `request`, in one word; undefined: they are. They need the exact
 * tracer, a known architecture, and a ptrace that will work (the filtered stub must have fdscan as
 * its tracer: yama's ptrace_scope 3 forbids every attach, and a traced fdscan's children are
 * attached to its own tracer first).
 */
export function originsRefused(request: Pick<TraceRequest, 'origins' | 'method'>): string | undefined {
  if (request.origins === false) return 'no-origins';
  if (request.method === 'sampling') return 'sampled';
  if (nativeArch() === undefined) return 'unsupported-arch';
  try {
    if (readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'latin1').trim() === '3') return 'ptrace-refused';
  } catch { /* no yama */ }
  const tracer = tracerOf('thread-self');
  if (tracer !== undefined && tracer !== 0) return 'fdscan-traced';
  return undefined;
}

/**
 * Why PTRACE_SEIZE of the stub failed: a process has one tracer, and a tracer that follows forks
 * (`strace -f` of fdscan) already traces the stub; else the usual causes of EPERM.
 */
export function refusedBecause(stub: number, errnoName: string): string {
  const tracer = tracerOf(stub);
  if (tracer === undefined || tracer === 0) return `${errnoName}: yama ptrace_scope, a sandbox or a missing CAP_SYS_PTRACE`;
  let name = '?';
  try { name = readFileSync(`/proc/${tracer}/comm`, 'utf8').replace(/\n$/, ''); } catch { /* exited meanwhile */ }
  const who = `${tracer} (${name})`;
  return tracerOf('thread-self') === tracer
    ? `${errnoName}: fdscan is being traced by ${who}, which also traces the command it starts`
    : `${errnoName}: the command is already traced by ${who}`;
}
