/**
 * The bytes this process was started with: /proc/self/cmdline and /proc/self/environ, which keep
 * what the kernel copied at the exec (Node's process.argv and process.env decode them as UTF-8,
 * turning every invalid byte into U+FFFD). Reads two files of this process; needs no privilege.
 */
import { readFileSync } from 'node:fs';
import { splitAtNul, type StartedWith } from '../../src/probe-kit/index.js';

/** This process's argv (the runtime's own options included) and environment as exec'd. */
export function startedWith(): StartedWith {
  return { argv: splitAtNul(readFileSync('/proc/self/cmdline')), environment: splitAtNul(readFileSync('/proc/self/environ')) };
}
