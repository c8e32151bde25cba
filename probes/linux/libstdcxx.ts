/**
 * libstdc++'s demangler (`abi::__cxa_demangle`, libstdc++.so.6) through koffi: C++ frame names as
 * a C++ programmer reads them. Node itself links libstdc++ on glibc Linux, so loading it maps
 * nothing new. Loaded on first use; a missing library leaves names as they are.
 */
import type * as Koffi from 'koffi';
import { koffi } from '../native-library.js';
import { libcFunction } from './libc.js';

type Demangler = (mangled: string, buffer: null, length: null, status: number[]) => unknown;
let demangler: Demangler | null | undefined;
/** Names seen, demangled once per fdscan run (the same library functions recur in every process). */
const names = new Map<string, string>();

/** `name` demangled when it is an Itanium C++ ABI name (_Z...) libstdc++ can read; otherwise `name`. */
export function demangle(name: string): string {
  if (!name.startsWith('_Z')) return name;
  let known = names.get(name);
  if (known !== undefined) return known;
  known = demangleOnce(name) ?? name;
  names.set(name, known);
  return known;
}

function demangleOnce(name: string): string | undefined {
  const k = koffi();
  if (demangler === undefined) {
    let library: Koffi.LibraryHandle | undefined;
    try {
      library = k.load('libstdc++.so.6');
    } catch {
      library = undefined;
    }
    // The result is malloc'ed: kept as a pointer (void *), read, then freed.
    demangler = library ? library.func('void *__cxa_demangle(const char *mangled, void *buffer, void *length, _Out_ int *status)') as unknown as Demangler : null;
  }
  if (!demangler) return undefined;
  const status = [0];
  const result = demangler(name, null, null, status);
  if (!result || status[0] !== 0) return undefined;
  try {
    return k.decode.string(result);
  } finally {
    libcFunction('void free(void *pointer)')(result);
  }
}
