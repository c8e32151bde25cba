/**
 * Whether an ELF executable imports a function by name (an undefined symbol of its .dynsym), read by
 * elf-symbols.ts (the one ELF reader of this probe). A file that is not ELF, is statically linked or
 * has its section headers stripped imports nothing.
 */
import { statSync } from 'node:fs';
import { readElfSymbols } from './elf-symbols.js';

/** Answers by file identity (device, inode, size, mtime): 10,000 execs of one shell read it once. */
const answers = new Map<string, boolean>();

/** Does the ELF file at `path` (e.g. /proc/PID/exe) import `symbol`? False when it cannot be read. */
export function importsSymbol(path: string, symbol: string): boolean {
  let key: string;
  try {
    const stat = statSync(path, { bigint: true });
    key = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${symbol}`;
  } catch {
    return false;
  }
  let answer = answers.get(key);
  if (answer === undefined) {
    answer = readElfSymbols(path, [symbol])?.imports.has(symbol) ?? false;
    answers.set(key, answer);
  }
  return answer;
}
