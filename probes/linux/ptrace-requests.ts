/**
 * ptrace(2) requests, options and stop events (<linux/ptrace.h>) and the waitpid flags the tracers
 * use (<linux/wait.h>): one list for the exact tracer, the ptrace users' check, `watch --origins` and
 * the tests' own small tracers.
 */
export const PTRACE_TRACEME = 0;
export const PTRACE_CONT = 7;
export const PTRACE_ATTACH = 16;
export const PTRACE_DETACH = 17;
export const PTRACE_SYSCALL = 24;
export const PTRACE_GETEVENTMSG = 0x4201;
export const PTRACE_SEIZE = 0x4206;
export const PTRACE_INTERRUPT = 0x4207;
export const PTRACE_LISTEN = 0x4208;
export const PTRACE_GET_SYSCALL_INFO = 0x420e;

export const PTRACE_O_TRACESYSGOOD = 0x1;
export const PTRACE_O_TRACEFORK = 0x2;
export const PTRACE_O_TRACEVFORK = 0x4;
export const PTRACE_O_TRACECLONE = 0x8;
export const PTRACE_O_TRACEEXEC = 0x10;
export const PTRACE_O_TRACEEXIT = 0x40;
export const PTRACE_O_TRACESECCOMP = 0x80;
export const PTRACE_O_EXITKILL = 0x100000;

/** PTRACE_EVENT_*: the event of a stop, in bits 16-23 of the wait status. */
export const EVENT_FORK = 1;
export const EVENT_VFORK = 2;
export const EVENT_CLONE = 3;
export const EVENT_EXEC = 4;
export const EVENT_EXIT = 6;
export const EVENT_SECCOMP = 7;
export const EVENT_STOP = 128;

/** waitpid: any child, thread or not; only the calling thread's children and tracees. */
export const WALL = 0x40000000;
export const WNOTHREAD = 0x20000000;
/** waitpid: return at once when no child changed; report stopped and continued children too. */
export const WNOHANG = 1;
export const WUNTRACED = 2;
export const WCONTINUED = 8;
