/**
 * An origin in words, two to four lines under a finding: the call that made the descriptor, with
 * its flags and the innermost frames of the program's own code, then the call that made it
 * inheritable again when there was one. Every name from the traced program is escaped.
 */
import type { DescriptorOrigin, OriginCall, StackFrame } from '../probe-kit/trace-result.js';
import { escapeText, shortArgv } from './text.js';

/** Frames shown per call. */
const FRAMES_SHOWN = 4;
/** The C library's and the dynamic loader's objects: the wrappers around a system call, skipped at the top of a stack. */
const WRAPPER_OBJECT = /(^|\/)(libc\.so|libc-[0-9.]+\.so|libpthread[.-]|ld-linux|ld-musl-|libc\.musl-)[^/]*$/;

/** The lines of `origin`, without indentation; `holderPid`: the pid the finding already names (not repeated). */
export function originLines(origin: DescriptorOrigin, holderPid?: number): string[] {
  const lines: string[] = [];
  if (origin.unknown !== undefined) {
    lines.push(`made: ${escapeText(origin.unknown)}${UNKNOWN_WHY[origin.unknown] ? ` (${UNKNOWN_WHY[origin.unknown]})` : ''}`);
  } else {
    lines.push(...callLines('made by', origin, holderPid));
  }
  if (origin.madeInheritable) lines.push(...callLines('made inheritable by', origin.madeInheritable, holderPid));
  return lines;
}

const UNKNOWN_WHY: Record<string, string> = {
  'before-trace': 'received from outside the traced tree',
  'close-on-exec': 'by a call asking for close-on-exec, which is not stopped',
  'no-origins': 'origins were not traced',
  unseen: 'its number was reused by a call fdscan does not stop at',
  sampled: 'the tree was sampled, not traced',
  'fdscan-itself': 'by fdscan\'s own step, which it does not trace',
  'no-unwinder': 'neither libdw nor libunwind-ptrace could be loaded',
  'before-attach': 'already open when watch --origins attached',
};

/** `made by openat("app.log", O_WRONLY|O_CREAT) without O_CLOEXEC` and `at f (a.c:4) <- main (a.c:9)`. */
function callLines(verb: string, call: OriginCall, holderPid?: number): string[] {
  const named = call.flags.filter((f) => !f.startsWith('without '));
  const missing = call.flags.filter((f) => f.startsWith('without '));
  const args = [
    ...(call.sourceFd !== undefined ? [String(call.sourceFd)] : []),
    ...(call.path !== undefined ? [`"${escapeText(call.path)}"`] : []),
    ...(named.length > 0 ? [escapeText(named.join('|'))] : []),
  ];
  const where = call.pid === holderPid ? '' : ` in ${shortArgv(call.argv, 40)} (pid ${call.pid})`;
  const peer = call.peer !== undefined ? ` from ${escapeText(call.peer)}` : '';
  const without = missing.length > 0 ? ` ${escapeText(missing.join(', '))}` : '';
  return [`${verb} ${escapeText(call.syscall)}(${args.join(', ')})${peer}${without} -> fd ${call.fd}${where}`, stackLine(call)];
}

/** `at f (a.c:4) <- main (a.c:9)`, the program's own frames first; or why there is no stack. */
function stackLine(call: OriginCall): string {
  if (call.stack.length === 0) return `  stack: ${escapeText(call.stackUnknown ?? 'empty')}`;
  const own = ownFrames(call.stack);
  // A stripped program: its offsets say nothing to a reader (JSON keeps them).
  if (own.every((frame) => frame.function === undefined)) {
    const objects = [...new Set(own.map((frame) => frame.object.slice(frame.object.lastIndexOf('/') + 1)))].slice(0, 2);
    return `  stack: no-symbols in ${escapeText(objects.join(', '))} (offsets in --json)`;
  }
  const shown = own.slice(0, FRAMES_SHOWN).map(frameText);
  const more = own.length > FRAMES_SHOWN ? ` <- ... ${own.length - FRAMES_SHOWN} more` : '';
  return `  at ${shown.join(' <- ')}${more}`;
}

/**
 * The program's own frames: its Python frames when it has some; else the native ones without the C library's and the loader's (the call's wrapper on top,
 * __libc_start_main below main) and the crt's `_start`; all of them when nothing else is left.
 */
export function ownFrames(stack: StackFrame[]): StackFrame[] {
  // A Python program's own code is its Python frames; the native ones are the interpreter's.
  const python = stack.filter((frame) => frame.object === 'python');
  if (python.length > 0) return python;
  const own = stack.filter((frame) => !WRAPPER_OBJECT.test(frame.object) && !(frame.function === '_start' && frame.file === undefined));
  return own.length > 0 ? own : stack;
}

/** `open_the_log (leaker.c:4)`, `open_the_log (leaker+0x1139)` or `libfoo.so+0x20`. */
export function frameText(frame: StackFrame): string {
  const object = frame.object.slice(frame.object.lastIndexOf('/') + 1);
  const place = frame.file !== undefined
    ? `${frame.file.slice(frame.file.lastIndexOf('/') + 1)}${frame.line !== undefined ? `:${frame.line}` : ''}`
    : `${object}+0x${frame.offset.toString(16)}`;
  return escapeText(frame.function !== undefined ? `${frame.function} (${place})` : place);
}
