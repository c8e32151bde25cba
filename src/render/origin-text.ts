/** The readable origin of a descriptor: `made by socket(AF_INET, SOCK_STREAM) in open_conn (srv.c:12) <- main (srv.c:30)`. */
import type { DescriptorOrigin, OriginCall, StackFrame } from '../probe-contract.js';
import { escapeText } from './text.js';

/** Frames shown per call: the innermost of the program's own code and its callers. */
const FRAMES_SHOWN = 3;
/** libc's and the loader's own frames: the syscall wrappers, skipped when they are innermost. */
const SYSTEM_OBJECT = /(^|\/)(libc|libpthread|ld-linux[^/]*|ld-musl[^/]*)([.-][^/]*)?\.so(\.[0-9.]+)?$/;
/** The `object` of a Python frame (python-frames.ts). */
const PYTHON_OBJECT = 'python';
const OPENING = new Set(['open', 'openat', 'openat2', 'creat']);
const SOCKET = new Set(['socket', 'socketpair']);

/** One or two lines (made by; made inheritable by), or the one-word reason there is none. */
export function originLines(origin: DescriptorOrigin): string[] {
  if (origin.reason !== undefined) return [`origin unknown: ${escapeText(origin.reason)}`];
  const lines = [`made by ${callText(origin)}`];
  if (origin.madeInheritable) lines.push(`made inheritable by ${callText(origin.madeInheritable)}`);
  return lines;
}

/** `socket(AF_INET, SOCK_STREAM) without SOCK_CLOEXEC in open_conn (srv.c:12) <- main (srv.c:30)`. */
function callText(call: OriginCall): string {
  // A missing close-on-exec is said after the call, in words, not as a flag it was given.
  const missing = call.flags.filter((f) => f.startsWith('without '));
  const flags = call.flags.filter((f) => !f.startsWith('without '));
  let args: string;
  if (OPENING.has(call.syscall) && call.target !== undefined) args = [JSON.stringify(call.target), flags.join('|')].filter(Boolean).join(', ');
  else if (SOCKET.has(call.syscall)) args = [flags[0], flags.slice(1).join('|')].filter(Boolean).join(', ');
  else args = flags.join('|');
  return `${escapeText(`${call.syscall}(${args})${missing.map((m) => ` ${m}`).join('')}`)}${stackText(call)}`;
}

function stackText(call: OriginCall): string {
  // libc's wrappers and start-up frames left out: the program's own code comes first. For an
  // interpreted program that is its Python frames; the interpreter's C frames are in the JSON.
  const python = call.stack.filter((f) => f.object === PYTHON_OBJECT);
  const own = python.length > 0 ? python : call.stack.filter((f) => !SYSTEM_OBJECT.test(f.object) && f.function !== '_start');
  const frames = own.length > 0 ? own : call.stack;
  if (frames.length === 0) return call.stackMissing ? ` (no stack: ${escapeText(call.stackMissing)})` : '';
  return ` in ${frames.slice(0, FRAMES_SHOWN).map(frameText).join(' <- ')}`;
}

function frameText(f: StackFrame): string {
  const where = f.file !== undefined ? `${f.file.slice(f.file.lastIndexOf('/') + 1)}${f.line !== undefined ? `:${f.line}` : ''}`
    : `${f.object.slice(f.object.lastIndexOf('/') + 1)}+0x${f.offset.toString(16)}`;
  return escapeText(`${f.function} (${where})`);
}
