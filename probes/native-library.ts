/**
 * koffi, loaded on first use, and lazily bound native libraries: the one mechanism every probe's
 * FFI module uses. Importing a probe on another OS loads nothing; a function pointer is created on
 * its first call, once.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Koffi from 'koffi';

const require = createRequire(import.meta.url);

/**
 * The koffi version bin/bundle.js bundled fdscan against (an esbuild `define`); undeclared outside
 * the bundle (tsc's output: the library, the tests), where koffi loads by its package as usual.
 */
declare const FDSCAN_KOFFI_VERSION: string | undefined;

let loaded: typeof Koffi | undefined;

/** The koffi module, loaded on first use (its native binary costs start-up time). */
export function koffi(): typeof Koffi {
  return (loaded ??= prebuiltKoffi() ?? (require('koffi') as typeof Koffi));
}

/**
 * koffi's own entry finds its binary by reading Node's ELF header for the C library, resolving its
 * package exports and copying node:util's exports (which loads parts of Node): 10-17 ms of every
 * run that reads descriptors, three times the 5 ms of loading the binary itself. On glibc Linux
 * (x64, arm64) the bundle loads koffi's prebuilt glibc binary from its platform package directly,
 * when that binary is the version the bundle was built with; anything else (musl, where that
 * binary does not load; another layout or version; no bundle) takes koffi's entry. The binary is
 * koffi's whole API: the entry only adds warnings for deprecated calls fdscan does not make.
 */
function prebuiltKoffi(): typeof Koffi | undefined {
  if (typeof FDSCAN_KOFFI_VERSION !== 'string' || process.platform !== 'linux') return undefined;
  if ((process.arch !== 'x64' && process.arch !== 'arm64') || !runsOnGlibc()) return undefined;
  try {
    const native = require(`@koromix/koffi-linux-${process.arch}/linux_${process.arch}/koffi.node`) as typeof Koffi & { version?: string };
    return native.version === FDSCAN_KOFFI_VERSION ? native : undefined;
  } catch {
    return undefined;
  }
}

/** A bound native function; callers give it its TypeScript signature. */
export type NativeFunction<R = unknown> = (...args: unknown[]) => R;

/**
 * A binder for one library: `fn(prototype)` returns the function, loading the library (after
 * `declareTypes`, which declares the type aliases its prototypes use) on the first call.
 */
export function lazyLibrary<R = unknown>(open: (k: typeof Koffi) => Koffi.LibraryHandle, declareTypes: () => void = () => {}): (prototype: string) => NativeFunction<R> {
  let library: Koffi.LibraryHandle | undefined;
  const bound = new Map<string, NativeFunction<R>>();
  return (prototype) => {
    let f = bound.get(prototype);
    if (!f) {
      if (!library) {
        declareTypes();
        library = open(koffi());
      }
      f = library.func(prototype) as NativeFunction<R>;
      bound.set(prototype, f);
    }
    return f;
  };
}

/**
 * Whether Node's own program interpreter is glibc's (/lib64/ld-linux-x86-64.so.2,
 * /lib/ld-linux-aarch64.so.1), as koffi itself decides which binary to load: the name is in the
 * ELF program's first page. musl's is ld-musl-*; a static Node has none (then koffi's entry decides).
 */
function runsOnGlibc(): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(process.execPath, 'r');
    const head = Buffer.alloc(4096);
    const n = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, n).includes('/ld-linux-');
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
