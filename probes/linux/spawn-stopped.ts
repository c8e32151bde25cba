/**
 * Starts a command from the calling thread with posix_spawn, held stopped before it execs.
 *
 * Why a stub: posix_spawn returns only after the child has exec'd (glibc uses CLONE_VFORK), so
 * there is no moment to attach between fork and exec, and ptrace relationships belong to the one
 * thread that attaches, so another thread cannot attach during the spawn. The stub is
 * `/bin/sh -c 'kill -STOP $$ && exec "$@"' fdscan CMD ARGS`: the shell stops itself before it
 * execs CMD, and nothing but a SIGCONT can move it past that point. The caller waits for the stop
 * (waitpid WUNTRACED on this pid only), attaches, then sends SIGCONT: the exec of CMD cannot
 * happen unobserved. (`kill` and `exec` are builtins of every POSIX shell: the stub forks nothing
 * and opens nothing, so CMD receives exactly the table the stub received.)
 *
 * Node marks its own 0, 1, 2 close-on-exec at start-up, so the stub's stdio is dup2'ed explicitly
 * (glibc's adddup2 of a descriptor onto itself clears FD_CLOEXEC). Signal dispositions Node set
 * (SIGPIPE ignored) are reset to default and the signal mask emptied, as child_process does; then
 * the stub's prelude (src/launch/caller-state.ts) ignores again what fdscan's caller ignored, lowers the
 * soft descriptor limit back to the caller's, and undoes what the shell did to the environment.
 */
import { constants } from 'node:os';
import { shellStep, FdscanError, crossesThreads, osErrorName, STOP_THEN_EXEC, type CallerState } from '../../src/probe-kit/index.js';
import { errno } from './libc.js';
import {
  SPAWN_STRUCT_BYTES, posixSpawn, posixSpawnFileActionsAddDup2, posixSpawnFileActionsDestroy,
  posixSpawnFileActionsInit, posixSpawnattrDestroy, posixSpawnattrInit, posixSpawnattrSetflags,
  posixSpawnattrSetsigdefault, posixSpawnattrSetsigmask, waitpid,
} from './libc-process.js';
import { WUNTRACED } from './ptrace-requests.js';

const POSIX_SPAWN_SETPGROUP = 0x02;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const { EINTR } = constants.errno;
/** glibc's sigset_t is 1024 bits. */
const SIGSET_BYTES = 128;

/** A posix_spawn failure (the stub could not start). */
export class SpawnFailed extends FdscanError {
  static { crossesThreads(this); }
  constructor(detail: string) {
    super('ESPAWN', `cannot start the command: ${detail}`);
  }
}

/**
 * Spawn `argv` via the stopping stub; returns once the stub is stopped (not yet exec'd CMD).
 * `ownGroup`: the stub leads a new process group (set in the child before its exec: a parent's
 * setpgid comes too late once the child has exec'd), as a shell with job control starts a job.
 */
export function spawnStopped(argv: readonly Uint8Array[], env: readonly Uint8Array[], caller: CallerState, ownGroup = false): number {
  const actions = Buffer.alloc(SPAWN_STRUCT_BYTES);
  const attr = Buffer.alloc(SPAWN_STRUCT_BYTES);
  check(posixSpawnFileActionsInit(actions), 'posix_spawn_file_actions_init');
  check(posixSpawnattrInit(attr), 'posix_spawnattr_init');
  try {
    for (const fd of [0, 1, 2]) check(posixSpawnFileActionsAddDup2(actions, fd, fd), 'posix_spawn_file_actions_adddup2');
    check(posixSpawnattrSetsigdefault(attr, Buffer.alloc(SIGSET_BYTES, 0xff)), 'posix_spawnattr_setsigdefault');
    check(posixSpawnattrSetsigmask(attr, Buffer.alloc(SIGSET_BYTES, 0)), 'posix_spawnattr_setsigmask');
    // A new group's id is the stub's pid (posix_spawnattr's pgroup 0, its initial value).
    const flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (ownGroup ? POSIX_SPAWN_SETPGROUP : 0);
    check(posixSpawnattrSetflags(attr, flags), 'posix_spawnattr_setflags');
    const pid = [0];
    // What the caller had closed among 0, 1, 2 is closed after the stop, not before: dash saves a
    // descriptor it closes with fcntl F_DUPFD, a call the origins filter stops, which before the
    // stub is traced would fail (ENOSYS). The prelude before the stop makes no such call.
    const closing = (caller.closedStdio ?? []).map((fd) => `exec ${fd}<&- && `).join('');
    const step = shellStep(STOP_THEN_EXEC.replace('&& ', `&& ${closing}`), argv, env, { caller });
    const terminated = (bytes: string | Buffer): Buffer => Buffer.concat([Buffer.from(bytes), Buffer.alloc(1)]);
    const stubArgv = ['sh', '-c', step.scriptBytes ? terminated(step.scriptBytes) : step.script, 'fdscan', ...step.argv.map(terminated), null];
    check(posixSpawn(pid, '/bin/sh', actions, attr, stubArgv, [...step.env.map(terminated), null]), 'posix_spawn /bin/sh');
    waitForStop(pid[0]!);
    return pid[0]!;
  } finally {
    posixSpawnFileActionsDestroy(actions);
    posixSpawnattrDestroy(attr);
  }
}

/** Block until the stub stops itself; it is this thread's child, so waiting on its pid is ours alone. */
function waitForStop(pid: number): void {
  const status = [0];
  for (;;) {
    const r = waitpid(pid, status, WUNTRACED);
    if (r === pid) break;
    if (r === -1 && errno() === EINTR) continue;
    throw new SpawnFailed(`waitpid ${pid}: ${osErrorName(errno())}`);
  }
  const word = status[0]!;
  if ((word & 0xff) !== 0x7f) {
    // Exited or killed before it could stop: /bin/sh missing or broken.
    throw new SpawnFailed(`/bin/sh ended before the command started (wait status ${word})`);
  }
}

function check(result: number, call: string): void {
  if (result !== 0) throw new SpawnFailed(`${call}: ${osErrorName(result)}`);
}
