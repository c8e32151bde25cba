/** The readable origin of a descriptor: `made by socket(AF_INET, SOCK_STREAM) in open_conn (srv.c:12) <- main (srv.c:30)`. */
import type { DescriptorOrigin, OriginCall, StackFrame } from '../probe-contract.js';
import { escapeText } from './text.js';

/** Frames shown per call: the innermost of the program's own code and its callers. */
const FRAMES_SHOWN = 3;
/** libc's and the loader's own frames: the syscall wrappers, skipped when they are innermost. */
const SYSTEM_OBJECT = /(^|\/)(libc|libpthread|ld-linux[^/]*|ld-musl[^/]*)([.-][^/]*)?\.so(\.[0-9.]+)?$/;
const OPENING = new Set(['open', 'openat', 'openat2', 'creat']);
const SOCKET = new Set(['socket', 'socketpair']);

/** One or two lines (made by; made inheritable by), or the one-word reason there is none. */
export function originLines(origin: DescriptorOrigin): string[] {
  if (origin.reason !== undefined) return [`origin unknown: ${escapeText(origin.reason)}`];
  const lines = [`made by ${callText(origin)}`];
  if (origin.madeInheritable) lines.push(`made inheritable by ${callText(origin.madeInheritable)}`);
  return lines;
}

function callText(call: OriginCall): string {
  let args: string;
  if (OPENING.has(call.syscall) && call.target !== undefined) args = [JSON.stringify(call.target), call.flags.join('|')].filter(Boolean).join(', ');
  else if (SOCKET.has(call.syscall)) args = [call.flags[0], call.flags.slice(1).join('|')].filter(Boolean).join(', ');
  else args = call.flags.join('|');
  return `${escapeText(`${call.syscall}(${args})`)}${stackText(call)}`;
}

function stackText(call: OriginCall): string {
  let frames = call.stack;
  const own = frames.findIndex((f) => !SYSTEM_OBJECT.test(f.object));
  if (own > 0) frames = frames.slice(own);
  if (frames.length === 0) return call.stackMissing ? ` (no stack: ${escapeText(call.stackMissing)})` : '';
  return ` in ${frames.slice(0, FRAMES_SHOWN).map(frameText).join(' <- ')}`;
}

function frameText(f: StackFrame): string {
  const where = f.file !== undefined ? `${f.file.slice(f.file.lastIndexOf('/') + 1)}${f.line !== undefined ? `:${f.line}` : ''}`
    : `${f.object.slice(f.object.lastIndexOf('/') + 1)}+0x${f.offset.toString(16)}`;
  return escapeText(`${f.function} (${where})`);
}
