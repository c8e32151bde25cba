/**
 * libc calls of terminal job control: sessions, process groups, a terminal's foreground group,
 * and the calling thread's signal mask (to change the foreground group from the background).
 */
import { libcFunction as fn } from './libc.js';

/** glibc's sigset_t is 1024 bits. */
export const SIGSET_BYTES = 128;
/** pthread_sigmask's `how` (the same numbers on every Linux architecture glibc and musl support). */
export const SIG_BLOCK = 0;
export const SIG_SETMASK = 2;

export const getpgrp = (): number => fn('pid_t getpgrp(void)')();
export const getsid = (pid: number): number => fn('pid_t getsid(pid_t pid)')(pid);
export const tcgetsid = (fd: number): number => fn('pid_t tcgetsid(int fd)')(fd);
export const tcgetpgrp = (fd: number): number => fn('pid_t tcgetpgrp(int fd)')(fd);
export const tcsetpgrp = (fd: number, pgid: number): number => fn('int tcsetpgrp(int fd, pid_t pgrp)')(fd, pgid);
export const sigemptyset = (set: Buffer): number => fn('int sigemptyset(void *set)')(set);
export const sigaddset = (set: Buffer, signal: number): number => fn('int sigaddset(void *set, int signum)')(set, signal);
/** pthread_sigmask; returns an error number (not -1/errno). `old` receives the mask before, when given. */
export const pthreadSigmask = (how: number, set: Buffer, old: Buffer | null): number =>
  fn('int pthread_sigmask(int how, const void *set, void *oldset)')(how, set, old);
