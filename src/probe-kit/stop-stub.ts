/**
 * The stub that holds a child stopped at a known point: a POSIX shell that stops itself (`kill
 * -STOP $$`, a builtin: it forks and opens nothing) and, once continued, execs the command. Its own
 * module, loading nothing, so that a tracer thread (probes/linux/spawn-stopped.ts) and the library
 * (src/launch/stopped-child.ts) run the same script.
 */

/** `sh -c STOP_THEN_EXEC sh CMD ARGS...`: stop, then exec CMD once sent SIGCONT. */
export const STOP_THEN_EXEC = 'kill -STOP "$$" && exec "$@"';
/** `sh -c STOP_ONLY`: stop; exit once continued. */
export const STOP_ONLY = 'kill -STOP "$$"';
