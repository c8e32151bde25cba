/** lsof's type names from the file-type bits of st_mode (the same values on Linux and macOS). */
import type { DescriptorType } from '../src/probe-kit/index.js';

/** REG, DIR, FIFO, CHR, BLK, LNK or SOCK; UNKNOWN for bits no tool names. */
export function typeFromMode(mode: number): DescriptorType {
  switch (mode & 0o170000) {
    case 0o100000: return 'REG';
    case 0o040000: return 'DIR';
    case 0o010000: return 'FIFO';
    case 0o020000: return 'CHR';
    case 0o060000: return 'BLK';
    case 0o120000: return 'LNK';
    case 0o140000: return 'SOCK';
    default: return 'UNKNOWN';
  }
}
