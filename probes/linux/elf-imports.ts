/**
 * Whether an ELF executable imports a function by name (an undefined symbol of its .dynsym): read
 * from the section headers, the dynamic symbol table and its string table, nothing else. A file
 * that is not ELF, is statically linked or has its section headers stripped imports nothing.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

const SHT_DYNSYM = 11;
/** Section headers and symbol tables of real programs are well under this; a bigger one is not read. */
const MAX_TABLE_BYTES = 64 * 1024 * 1024;

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
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return false;
    }
    try {
      answer = readImports(fd, symbol);
    } catch {
      answer = false; // truncated or absurd tables: not a program that imports anything we can see
    } finally {
      closeSync(fd);
    }
    answers.set(key, answer);
  }
  return answer;
}

function readAt(fd: number, offset: number, length: number): Buffer {
  if (length < 0 || length > MAX_TABLE_BYTES) throw new RangeError('ELF table too large');
  const buffer = Buffer.alloc(length);
  const got = readSync(fd, buffer, 0, length, offset);
  if (got !== length) throw new RangeError('short ELF read');
  return buffer;
}

/** The ELF64/ELF32 layouts (<elf.h>), either byte order. */
function readImports(fd: number, symbol: string): boolean {
  const ident = readAt(fd, 0, 64);
  if (ident.readUInt32BE(0) !== 0x7f454c46) return false;
  const wide = ident[4] === 2;
  const little = ident[5] === 1;
  const u16 = (b: Buffer, at: number) => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const u32 = (b: Buffer, at: number) => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const word = (b: Buffer, at: number) => (wide ? Number(little ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at)) : u32(b, at));
  const shoff = word(ident, wide ? 0x28 : 0x20);
  const shentsize = u16(ident, wide ? 0x3a : 0x2e);
  const shnum = u16(ident, wide ? 0x3c : 0x30);
  if (shoff === 0 || shnum === 0) return false;
  const headers = readAt(fd, shoff, shentsize * shnum);
  const section = (index: number) => {
    const at = index * shentsize;
    return { type: u32(headers, at + 4), offset: word(headers, at + (wide ? 0x18 : 0x10)), size: word(headers, at + (wide ? 0x20 : 0x14)), link: u32(headers, at + (wide ? 0x28 : 0x18)) };
  };
  const wanted = Buffer.from(`${symbol}\0`, 'latin1');
  for (let i = 0; i < shnum; i++) {
    const dynsym = section(i);
    if (dynsym.type !== SHT_DYNSYM || dynsym.link >= shnum) continue;
    const strtab = section(dynsym.link);
    const symbols = readAt(fd, dynsym.offset, dynsym.size);
    const names = readAt(fd, strtab.offset, strtab.size);
    const entry = wide ? 24 : 16;
    for (let at = 0; at + entry <= symbols.length; at += entry) {
      // st_shndx 0 (SHN_UNDEF): defined elsewhere, i.e. imported.
      const shndx = u16(symbols, at + (wide ? 6 : 14));
      if (shndx !== 0) continue;
      const name = u32(symbols, at);
      if (name + wanted.length <= names.length && names.compare(wanted, 0, wanted.length, name, name + wanted.length) === 0) return true;
    }
  }
  return false;
}
