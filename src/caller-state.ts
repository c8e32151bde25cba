/**
 * What fdscan's caller gave it that Node takes away before any JavaScript runs, so that a wrapped
 * command can get it back: the signals the caller left ignored (Node resets every inherited
 * SIG_IGN to SIG_DFL at start-up) and the soft descriptor limit (Node raises it to the hard one).
 *
 * Only a program that runs before Node can see them. bin/fdscan.js is also a POSIX shell script:
 * installed on Linux or macOS its first line is `#!/bin/sh` (bin/install-launcher.js), and its
 * second line, a comment to JavaScript, reads the shell's ignored-signal mask and `ulimit -S -n`
 * into FDSCAN_CALLER, then execs Node on the same file. Started any other way (`node
 * bin/fdscan.js`, npx, Windows), nothing is recorded and nothing is restored.
 *
 * The wrapped command is then started by a POSIX shell step (`trap '' N; ulimit -S -n N; exec
 * CMD`), and fdscan itself keeps ignoring what its caller ignored.
 */
import { constants } from 'node:os';

/** The variable the launcher sets: `sigign=HEXMASK nofile=N|unlimited[ pwd:[PWD=value]]`. */
export const CALLER_VARIABLE = 'FDSCAN_CALLER';

export interface CallerState {
  /** True when the launcher recorded the caller's state (otherwise the rest is empty). */
  recorded: boolean;
  /** Signal numbers the caller left ignored (SIG_IGN). */
  ignoredSignals: readonly number[];
  /** The caller's soft RLIMIT_NOFILE, before Node raised it. */
  softDescriptorLimit: number | 'unlimited' | undefined;
  /**
   * PWD as the caller gave it (null: it gave none), which the launching shell sets or rewrites;
   * undefined when unknown.
   */
  givenPwd?: string | null;
}

const NOTHING_RECORDED: CallerState = { recorded: false, ignoredSignals: [], softDescriptorLimit: undefined };

let state: CallerState = NOTHING_RECORDED;

/** Signals fdscan must keep handling whatever the caller did: the ones it needs to work, and the fatal ones. */
const NEVER_IGNORED_BY_FDSCAN = new Set(['SIGCHLD', 'SIGPIPE', 'SIGKILL', 'SIGSTOP', 'SIGBUS', 'SIGFPE', 'SIGSEGV', 'SIGILL', 'SIGCONT']);

/** Parse the launcher's record; undefined when absent or not in the launcher's format. */
export function parseCallerState(text: string | undefined): CallerState | undefined {
  if (text === undefined) return undefined;
  // PWD comes last and may hold anything, spaces included: `pwd:` alone when the caller gave none.
  const pwdAt = text.indexOf(' pwd:');
  const pwdField = pwdAt === -1 ? undefined : text.slice(pwdAt + ' pwd:'.length);
  if (pwdField !== undefined && pwdField !== '' && !pwdField.startsWith('PWD=')) return undefined;
  const fields = new Map((pwdAt === -1 ? text : text.slice(0, pwdAt)).trim().split(/\s+/).map((field) => {
    const at = field.indexOf('=');
    return [field.slice(0, at), field.slice(at + 1)] as const;
  }));
  const mask = fields.get('sigign');
  const nofile = fields.get('nofile');
  if (mask === undefined || !/^[0-9a-fA-F]{0,16}$/.test(mask)) return undefined;
  if (nofile === undefined || !/^(\d+|unlimited)$/.test(nofile)) return undefined;
  const bits = BigInt(`0x0${mask}`);
  const ignoredSignals: number[] = [];
  for (let signo = 1; signo <= 64; signo++) {
    if ((bits >> BigInt(signo - 1)) & 1n) ignoredSignals.push(signo);
  }
  const givenPwd = pwdField === undefined ? undefined : pwdField === '' ? null : pwdField.slice('PWD='.length);
  return { recorded: true, ignoredSignals, softDescriptorLimit: nofile === 'unlimited' ? 'unlimited' : Number(nofile), givenPwd };
}

/**
 * Take the launcher's record out of the environment (the wrapped command must not see it), put
 * PWD back as the caller gave it, and keep the record for the rest of the run. Call once, first
 * thing.
 */
export function takeCallerState(env: NodeJS.ProcessEnv = process.env): CallerState {
  const text = env[CALLER_VARIABLE];
  delete env[CALLER_VARIABLE];
  state = parseCallerState(text) ?? NOTHING_RECORDED;
  // The launching shell added PWD, or rewrote a stale one: the environment goes on as given.
  if (state.givenPwd === null) delete env.PWD;
  else if (state.givenPwd !== undefined) env.PWD = state.givenPwd;
  return state;
}

/** What was recorded (nothing, unless started through the launcher). */
export function callerState(): CallerState {
  return state;
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return (constants.signals as Record<string, number | undefined>)[signal];
}

/** `signals` without those the caller ignored: fdscan neither acts on nor forwards an ignored signal. */
export function heeded(signals: readonly NodeJS.Signals[]): NodeJS.Signals[] {
  const ignored = new Set(state.ignoredSignals);
  return signals.filter((signal) => !ignored.has(signalNumber(signal) ?? 0));
}

/**
 * Keep ignoring what the caller ignored. Node cannot set SIG_IGN back, so a listener that does
 * nothing stands in for it (Node unrefs signal listeners: they keep nothing alive).
 */
export function keepCallerIgnores(): void {
  const names = Object.entries(constants.signals as Record<string, number>);
  for (const signo of state.ignoredSignals) {
    const name = names.find(([, n]) => n === signo)?.[0];
    if (name === undefined || NEVER_IGNORED_BY_FDSCAN.has(name)) continue;
    process.on(name as NodeJS.Signals, ignore);
  }
}

function ignore(): void { /* the caller ignored this signal */ }

/** A word for a POSIX shell, single-quoted. */
function shellWord(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Names dash changes on its own when it starts (PWD set or rewritten, PPID, IFS, OPTIND reset). */
const SHELL_MANAGED = ['PWD', 'PPID', 'IFS', 'OPTIND'] as const;

/**
 * The commands a POSIX shell step runs before it execs the wrapped command so that the command
 * gets what fdscan's caller gave: the caller's ignored signals and soft descriptor limit (when
 * recorded), and the environment exactly as `env` has it for the variables the shell itself
 * sets or rewrites at start-up. Ends with `; ` when not empty. `caller` crosses to a tracer thread
 * as data: there the module's own record is empty.
 */
export function shellPrelude(env: Readonly<Record<string, string | undefined>>, caller: CallerState = state): string {
  const commands: string[] = [];
  const ignored = caller.ignoredSignals.filter((signo) => signo !== constants.signals.SIGKILL && signo !== constants.signals.SIGSTOP);
  if (ignored.length > 0) commands.push(`trap '' ${ignored.join(' ')}`);
  if (caller.softDescriptorLimit !== undefined) commands.push(`ulimit -S -n ${caller.softDescriptorLimit}`);
  for (const name of SHELL_MANAGED) {
    const value = env[name];
    if (value === undefined) {
      // dash exports PWD when it was absent; the others it exports only when they were given.
      if (name === 'PWD') commands.push('unset PWD');
    } else if (name !== 'OPTIND' || /^\d+$/.test(value)) {
      commands.push(`${name}=${shellWord(value)}`);
    }
  }
  return commands.length === 0 ? '' : `${commands.join('; ')}; `;
}

/** `NAME=value` strings (as a spawn takes them) as a record. */
export function environmentRecord(entries: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (const entry of entries) {
    const at = entry.indexOf('=');
    if (at > 0) record[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return record;
}
