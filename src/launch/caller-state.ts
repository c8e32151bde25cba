/**
 * What fdscan's caller gave it that Node takes away before any JavaScript runs, so that a wrapped
 * command can get it back: the signals the caller left ignored (Node resets every inherited
 * SIG_IGN to SIG_DFL at start-up) and the soft descriptor limit (Node raises it to the hard one).
 *
 * Only a program that runs before Node can see them: bin/fdscan, the POSIX shell script npm's
 * `bin` names, records them in FDSCAN_CALLER and execs Node on bin/fdscan.js. Started any other
 * way (`node bin/fdscan.js`, Windows), nothing is recorded and nothing is restored; `--help` says
 * so (src/cli/main.ts).
 *
 * The wrapped command is then started by a POSIX shell step (`trap '' N; ulimit -S -n N; exec
 * CMD`), and fdscan itself keeps ignoring what its caller ignored.
 */
import { constants } from 'node:os';
import { entryValue, shellStep as kitShellStep, splitAtNul, type CallerState, type ShellStep } from '../probe-kit/shell-step.js';
import { signalsInMask } from '../probe-kit/signal-mask.js';

export { splitAtNul, entryValue, type CallerState, type ShellStep } from '../probe-kit/shell-step.js';

/**
 * The variable the launcher sets: `sigign=HEXMASK nofile=N|unlimited closed=[0][1][2][ environ:HEX| pwd:[PWD=value]]`
 * (closed: which of 0, 1, 2 the caller had closed),
 * HEX being the caller's whole environment (its /proc/PID/environ) byte by byte as `od -An -tx1`
 * prints it: the launching shell drops, reorders and rewrites variables (PWD, PPID, IFS, OPTIND)
 * before Node starts. Where that would not fit in one variable, only PWD as given. The
 * environment is recorded only where a command is wrapped (`--` among the arguments).
 */
export const CALLER_VARIABLE = 'FDSCAN_CALLER';


/** The launcher's record, with the caller's environment as it gave it (`NAME=value` entries) when recorded. */
export interface LauncherRecord extends CallerState {
  givenEnvironment?: Buffer[];
}

const NOTHING_RECORDED: CallerState = { recorded: false, ignoredSignals: [], softDescriptorLimit: undefined };

let state: CallerState = NOTHING_RECORDED;
let givenEnvironment: Buffer[] | undefined;

/** Signals fdscan must keep handling whatever the caller did: the ones it needs to work, and the fatal ones. */
const NEVER_IGNORED_BY_FDSCAN = new Set(['SIGCHLD', 'SIGPIPE', 'SIGKILL', 'SIGSTOP', 'SIGBUS', 'SIGFPE', 'SIGSEGV', 'SIGILL', 'SIGCONT']);


/** Parse the launcher's record; undefined when absent or not in the launcher's format. */
export function parseCallerState(text: string | undefined): LauncherRecord | undefined {
  if (text === undefined) return undefined;
  // The last field, environ or pwd, may hold spaces: `pwd:` alone when the caller gave no PWD.
  const environAt = text.indexOf(' environ:');
  const pwdAt = environAt === -1 ? text.indexOf(' pwd:') : -1;
  const lastAt = environAt === -1 ? pwdAt : environAt;
  // od's lines: hex pairs between spaces and newlines.
  const hex = environAt === -1 ? undefined : text.slice(environAt + ' environ:'.length).replace(/\s+/g, '');
  if (hex !== undefined && !/^(?:[0-9a-f]{2})*$/.test(hex)) return undefined;
  const pwdField = pwdAt === -1 ? undefined : text.slice(pwdAt + ' pwd:'.length);
  if (pwdField !== undefined && pwdField !== '' && !pwdField.startsWith('PWD=')) return undefined;
  const fields = new Map((lastAt === -1 ? text : text.slice(0, lastAt)).trim().split(/\s+/).map((field) => {
    const at = field.indexOf('=');
    return [field.slice(0, at), field.slice(at + 1)] as const;
  }));
  const mask = fields.get('sigign');
  const nofile = fields.get('nofile');
  const closed = fields.get('closed');
  if (closed !== undefined && !/^0?1?2?$/.test(closed)) return undefined;
  if (mask === undefined || !/^[0-9a-fA-F]{0,16}$/.test(mask)) return undefined;
  if (nofile === undefined || !/^(\d+|unlimited)$/.test(nofile)) return undefined;
  const record: LauncherRecord = { recorded: true, ignoredSignals: signalsInMask(mask), softDescriptorLimit: nofile === 'unlimited' ? 'unlimited' : Number(nofile) };
  if (closed) record.closedStdio = [...closed].map(Number);
  if (hex !== undefined) {
    record.givenEnvironment = splitAtNul(Buffer.from(hex, 'hex'));
    record.givenPwd = entryValue(record.givenEnvironment, 'PWD')?.toString() ?? null;
  } else if (pwdField !== undefined) {
    record.givenPwd = pwdField === '' ? null : pwdField.slice('PWD='.length);
  }
  return record;
}

/**
 * Take the launcher's record out of the environment (the wrapped command must not see it), put
 * PWD back as the caller gave it, and keep the record for the rest of the run. Call once, first
 * thing.
 */
export function takeCallerState(env: NodeJS.ProcessEnv = process.env): CallerState {
  const text = env[CALLER_VARIABLE];
  delete env[CALLER_VARIABLE];
  const parsed: LauncherRecord = parseCallerState(text) ?? NOTHING_RECORDED;
  const { givenEnvironment: given, ...record } = parsed;
  state = record;
  givenEnvironment = given;
  // The launching shell added PWD, or rewrote a stale one: the environment goes on as given.
  if (state.givenPwd === null) delete env.PWD;
  else if (state.givenPwd !== undefined) env.PWD = state.givenPwd;
  return state;
}

/** The environment fdscan's caller gave, byte for byte, when the launcher recorded it. */
export function callerEnvironment(): readonly Buffer[] | undefined {
  return givenEnvironment;
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

/** shellStep (src/probe-kit/shell-step.ts) with this process's caller record unless `caller` is given. */
export function shellStep(body: string, argv: readonly Uint8Array[], env: readonly Uint8Array[], options: { caller?: CallerState; text?: boolean; stdioAsGiven?: boolean } = {}): ShellStep {
  return kitShellStep(body, argv, env, { ...options, caller: options.caller ?? state });
}

/** A record of variables (process.env) as `NAME=value` entries. */
export function environmentEntries(env: Readonly<Record<string, string | undefined>>): Buffer[] {
  return Object.entries(env).filter(([, v]) => v !== undefined).map(([k, v]) => Buffer.from(`${k}=${v}`));
}

/** `NAME=value` entries as a record (what child_process takes), the last of a name winning as a shell takes them. */
export function environmentRecord(entries: readonly (string | Uint8Array)[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (const entry of entries) {
    const text = typeof entry === 'string' ? entry : Buffer.from(entry).toString();
    const at = text.indexOf('=');
    if (at > 0) record[text.slice(0, at)] = text.slice(at + 1);
  }
  return record;
}
