/**
 * The defined symbols an ELF file exports, by name, with what is needed to find them in a process
 * that mapped the file: the file type (ET_EXEC is not relocated) and its PT_LOAD segments. Read from
 * the section headers, .dynsym (or .symtab when there is no .dynsym) and the program headers,
 * nothing else; every table is bounded, a file that is not ELF has no symbols.
 */
import { closeSync, openSync, readSync } from 'node:fs';

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const PT_LOAD = 1;
const ET_EXEC = 2;
/** Symbol and string tables of real programs are well under this; a bigger one is not read. */
const MAX_TABLE_BYTES = 64 * 1024 * 1024;

/** What a mapped ELF file says about where its symbols land. */
export interface ElfSymbols {
  /** ET_EXEC: addresses are absolute; otherwise relative to the load bias. */
  fixed: boolean;
  /** PT_LOAD segments: file offset and virtual address (not page-aligned). */
  loads: Array<{ offset: number; vaddr: number }>;
  /** The wanted symbols that the file defines: name -> st_value. */
  symbols: Map<string, number>;
}

/** Read `wanted` defined symbols from the ELF file at `path`; undefined when it is not a readable ELF file. */
export function readElfSymbols(path: string, wanted: readonly string[]): ElfSymbols | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    return readSymbols(fd, new Set(wanted));
  } catch {
    return undefined; // truncated or absurd tables: nothing we can trust
  } finally {
    closeSync(fd);
  }
}

function readAt(fd: number, offset: number, length: number): Buffer {
  if (length < 0 || length > MAX_TABLE_BYTES) throw new RangeError('ELF table too large');
  const buffer = Buffer.alloc(length);
  const got = readSync(fd, buffer, 0, length, offset);
  if (got !== length) throw new RangeError('short ELF read');
  return buffer;
}

/** ELF64 little-endian only: the layouts fdscan reads Python from (x86_64, arm64). */
function readSymbols(fd: number, wanted: Set<string>): ElfSymbols | undefined {
  const ident = readAt(fd, 0, 64);
  if (ident.readUInt32BE(0) !== 0x7f454c46 || ident[4] !== 2 || ident[5] !== 1) return undefined;
  const word = (b: Buffer, at: number) => Number(b.readBigUInt64LE(at));
  const type = ident.readUInt16LE(0x10);
  const phoff = word(ident, 0x20);
  const shoff = word(ident, 0x28);
  const phentsize = ident.readUInt16LE(0x36);
  const phnum = ident.readUInt16LE(0x38);
  const shentsize = ident.readUInt16LE(0x3a);
  const shnum = ident.readUInt16LE(0x3c);

  const loads: Array<{ offset: number; vaddr: number }> = [];
  const programs = readAt(fd, phoff, phentsize * phnum);
  for (let i = 0; i < phnum; i++) {
    const at = i * phentsize;
    if (programs.readUInt32LE(at) === PT_LOAD) loads.push({ offset: word(programs, at + 8), vaddr: word(programs, at + 16) });
  }

  const symbols = new Map<string, number>();
  if (shoff === 0 || shnum === 0) return { fixed: type === ET_EXEC, loads, symbols };
  const headers = readAt(fd, shoff, shentsize * shnum);
  const section = (index: number) => {
    const at = index * shentsize;
    return { type: headers.readUInt32LE(at + 4), offset: word(headers, at + 0x18), size: word(headers, at + 0x20), link: headers.readUInt32LE(at + 0x28) };
  };
  // Each name with its terminating NUL, so that a longer name with the same start does not match.
  const wantedBytes = [...wanted].map((name) => [name, Buffer.from(`${name}\0`, 'latin1')] as const);
  // .dynsym is what a stripped distribution binary keeps; .symtab only where .dynsym is absent.
  const tables = [SHT_DYNSYM, SHT_SYMTAB];
  for (const tableType of tables) {
    for (let i = 0; i < shnum && symbols.size < wanted.size; i++) {
      const table = section(i);
      if (table.type !== tableType || table.link >= shnum) continue;
      const strtab = section(table.link);
      const entries = readAt(fd, table.offset, table.size);
      const names = readAt(fd, strtab.offset, strtab.size);
      for (let at = 0; at + 24 <= entries.length; at += 24) {
        // st_shndx 0 (SHN_UNDEF): imported, not defined here.
        if (entries.readUInt16LE(at + 6) === 0) continue;
        const start = entries.readUInt32LE(at);
        // Compared byte by byte in JavaScript: no string per name, and no Buffer.compare, whose
        // native call costs more than the comparison (a libpython's .symtab has ~20,000 names).
        for (const [name, bytes] of wantedBytes) {
          if (startsAt(names, start, bytes) && !symbols.has(name)) symbols.set(name, word(entries, at + 8));
        }
      }
    }
    if (symbols.size > 0) break;
  }
  return { fixed: type === ET_EXEC, loads, symbols };
}

/** Whether `table` holds `bytes` at `start`. */
function startsAt(table: Buffer, start: number, bytes: Buffer): boolean {
  if (start + bytes.length > table.length) return false;
  for (let i = 0; i < bytes.length; i++) if (table[start + i] !== bytes[i]) return false;
  return true;
}
