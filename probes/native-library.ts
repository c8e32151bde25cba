/**
 * koffi, loaded on first use, and lazily bound native libraries: the one mechanism every probe's
 * FFI module uses. Importing a probe on another OS loads nothing; a function pointer is created on
 * its first call, once.
 */
import { createRequire } from 'node:module';
import type * as Koffi from 'koffi';

const require = createRequire(import.meta.url);

/** The koffi module, loaded on first use (its native binary costs start-up time). */
export function koffi(): typeof Koffi {
  return require('koffi') as typeof Koffi;
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
