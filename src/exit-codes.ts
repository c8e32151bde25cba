/** fdscan's exit codes; a wrapped command's own failure passes through unchanged. */
export const EXIT_OK = 0;
/** A leak or other finding (gate). */
export const EXIT_FINDING = 1;
/** Bad usage, or a process that could not be read. */
export const EXIT_ERROR = 2;
/** A bug in fdscan (EX_SOFTWARE of sysexits.h): never a verdict's code, never a scan error's. */
export const EXIT_INTERNAL = 70;
/** The wrapped command does not exist (as a shell says). */
export const EXIT_NOT_FOUND = 127;
