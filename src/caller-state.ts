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
import { isUtf8 } from 'node:buffer';
import { constants } from 'node:os';

/**
 * The variable the launcher sets: `sigign=HEXMASK nofile=N|unlimited closed=[0][1][2][ environ:HEX| pwd:[PWD=value]]`
 * (closed: which of 0, 1, 2 the caller had closed),
 * HEX being the caller's whole environment (its /proc/PID/environ) byte by byte as `od -An -tx1`
 * prints it: the launching shell drops, reorders and rewrites variables (PWD, PPID, IFS, OPTIND)
 * before Node starts. Where that would not fit in one variable, only PWD as given. The
 * environment is recorded only where a command is wrapped (`--` among the arguments).
 */
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
  /**
   * Which of 0, 1, 2 the caller had closed: Node opens /dev/null on them before any JavaScript
   * runs, so only the launcher sees it; CMD gets them closed again.
   */
  closedStdio?: readonly number[];
}

/** The launcher's record, with the caller's environment as it gave it (`NAME=value` entries) when recorded. */
export interface LauncherRecord extends CallerState {
  givenEnvironment?: Buffer[];
}

const NOTHING_RECORDED: CallerState = { recorded: false, ignoredSignals: [], softDescriptorLimit: undefined };

let state: CallerState = NOTHING_RECORDED;
let givenEnvironment: Buffer[] | undefined;

/** Signals fdscan must keep handling whatever the caller did: the ones it needs to work, and the fatal ones. */
const NEVER_IGNORED_BY_FDSCAN = new Set(['SIGCHLD', 'SIGPIPE', 'SIGKILL', 'SIGSTOP', 'SIGBUS', 'SIGFPE', 'SIGSEGV', 'SIGILL', 'SIGCONT']);

/** NUL-terminated strings, each as its own Buffer. */
export function splitAtNul(bytes: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let end = bytes.indexOf(0); end !== -1; end = bytes.indexOf(0, start)) {
    parts.push(bytes.subarray(start, end));
    start = end + 1;
  }
  if (start < bytes.length) parts.push(bytes.subarray(start));
  return parts;
}

/** The value of `name` in `NAME=value` entries (of several, the last: the one a shell keeps), undefined when absent. */
export function entryValue(entries: readonly Uint8Array[], name: string): Buffer | undefined {
  const prefix = Buffer.from(`${name}=`);
  let value: Buffer | undefined;
  for (const entry of entries) {
    const bytes = Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength);
    if (bytes.subarray(0, prefix.length).equals(prefix)) value = bytes.subarray(prefix.length);
  }
  return value;
}

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
  const bits = BigInt(`0x0${mask}`);
  const ignoredSignals: number[] = [];
  for (let signo = 1; signo <= 64; signo++) {
    if ((bits >> BigInt(signo - 1)) & 1n) ignoredSignals.push(signo);
  }
  const record: LauncherRecord = { recorded: true, ignoredSignals, softDescriptorLimit: nofile === 'unlimited' ? 'unlimited' : Number(nofile) };
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

/** Bytes as one word for a POSIX shell, single-quoted (any byte but NUL stands for itself there). */
function shellWord(bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from("'"), Buffer.from(Buffer.from(bytes).toString('latin1').replaceAll("'", "'\\''"), 'latin1'), Buffer.from("'")]);
}

/** Printable ASCII a printf format may hold as it is (no quote, backslash or percent sign). */
const PLAIN_FORMAT_BYTE = /^[A-Za-z0-9 _.,:;=+@/-]$/;

/**
 * Shell code that is not valid UTF-8 (Node passes strings to a child as UTF-8, so such bytes
 * cannot be in the script itself): run through `eval "$(printf FORMAT)"`, the format spelling
 * every other byte as an octal escape. One command substitution, one fork of the shell step.
 */
function exactCode(code: Buffer): string {
  if (isUtf8(code)) return code.toString();
  let format = '';
  for (const byte of code) {
    const char = String.fromCharCode(byte);
    format += PLAIN_FORMAT_BYTE.test(char) ? char : `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return `eval "$(printf '${format}')"`;
}

/** Names dash changes on its own when it starts (PWD set or rewritten, PPID, IFS, OPTIND reset). */
const SHELL_MANAGED = ['PWD', 'PPID', 'IFS', 'OPTIND'] as const;

/** A name a POSIX shell can assign and export. */
const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `NAME=value` entries a POSIX shell cannot start with: dash exits at once on an OPTIND that is not a number. */
function startsShell(entry: Uint8Array): boolean {
  const text = Buffer.from(entry).toString('latin1');
  return !text.startsWith('OPTIND=') || /^OPTIND=\d{1,9}$/.test(text);
}

/** How a POSIX shell step is started so that it execs CMD with CMD's exact argv and environment. */
export interface ShellStep {
  /** The `sh -c` script: the prelude, then `body`. */
  script: string;
  /**
   * Without `text`: the script's exact bytes when its code is not UTF-8 (then `script` spells it
   * with printf). Passed as bytes (posix_spawn), it needs no command substitution, so the step
   * makes no pipe: under the origins filter, the stub's calls before it is traced must be none it stops.
   */
  scriptBytes?: Buffer;
  /** The positional parameters ("$@"), CMD's argv. */
  argv: Array<string | Buffer>;
  /** The shell's environment, `NAME=value` entries. */
  env: Array<string | Buffer>;
}

/**
 * A POSIX shell step (`sh -c SCRIPT fdscan ARGV...`) that gives CMD what fdscan's caller gave:
 * the caller's ignored signals and soft descriptor limit (when recorded), then `body` (which
 * execs "$@"). With `text` (a child_process spawn, which passes strings as UTF-8) the arguments
 * and environment entries that are not UTF-8 go in the script instead, as octal escapes the
 * shell decodes; otherwise (posix_spawn) they pass as bytes. Either way the shell puts back the
 * variables it sets or rewrites at start-up, as `env` has them. What no POSIX shell can pass on
 * is lost: names that are not shell names, a non-numeric OPTIND, and the order of the entries.
 * `caller` crosses to a tracer thread as data: there the module's own record is empty.
 */
export function shellStep(body: string, argv: readonly Uint8Array[], env: readonly Uint8Array[], options: { caller?: CallerState; text?: boolean; stdioAsGiven?: boolean } = {}): ShellStep {
  const caller = options.caller ?? state;
  const commands: string[] = [];
  // What the caller had closed among 0, 1, 2 is closed again (Node put /dev/null there).
  if (options.stdioAsGiven) for (const fd of caller.closedStdio ?? []) commands.push(`exec ${fd}<&-`);
  const ignored = caller.ignoredSignals.filter((signo) => signo !== constants.signals.SIGKILL && signo !== constants.signals.SIGSTOP);
  if (ignored.length > 0) commands.push(`trap '' ${ignored.join(' ')}`);
  if (caller.softDescriptorLimit !== undefined) commands.push(`ulimit -S -n ${caller.softDescriptorLimit}`);
  const code: Buffer[] = [];
  const stepArgv = argv.map((arg) => Buffer.from(arg));
  const stepEnv = env.filter(startsShell).map((entry) => Buffer.from(entry));
  if (options.text && !stepArgv.every(isUtf8)) {
    // "${N}" for an argument passed as text, its bytes in the script for the others (passed as '').
    const words = stepArgv.map((arg, i) => (isUtf8(arg) ? Buffer.from(`"\${${i + 1}}"`) : shellWord(arg)));
    code.push(Buffer.concat([Buffer.from('set --'), ...words.flatMap((word) => [Buffer.from(' '), word])]));
    stepArgv.forEach((arg, i) => { if (!isUtf8(arg)) stepArgv[i] = Buffer.alloc(0); });
  }
  const passed = options.text ? stepEnv.filter(isUtf8) : stepEnv;
  for (const entry of options.text ? stepEnv.filter((e) => !isUtf8(e)) : []) {
    const at = entry.indexOf('=');
    if (SHELL_NAME.test(entry.subarray(0, at).toString('latin1'))) code.push(Buffer.concat([Buffer.from('export '), entry.subarray(0, at + 1), shellWord(entry.subarray(at + 1))]));
  }
  for (const name of SHELL_MANAGED) {
    const value = entryValue(stepEnv, name);
    // dash exports PWD when it was absent; the others it exports only when they were given.
    if (value === undefined) {
      if (name === 'PWD') code.push(Buffer.from('unset PWD'));
    } else {
      code.push(Buffer.concat([Buffer.from(`${name}=`), shellWord(value)]));
    }
  }
  const joined = code.length > 0 ? Buffer.concat(code.flatMap((line, i) => (i === 0 ? [line] : [Buffer.from('; '), line]))) : undefined;
  const before = commands.map((command) => `${command}; `).join('');
  if (joined) commands.push(exactCode(joined));
  const text = (bytes: Buffer): string | Buffer => (options.text ? bytes.toString() : bytes);
  const step: ShellStep = { script: commands.map((command) => `${command}; `).join('') + body, argv: stepArgv.map(text), env: passed.map(text) };
  if (!options.text && joined && !isUtf8(joined)) step.scriptBytes = Buffer.concat([Buffer.from(before), joined, Buffer.from(`; ${body}`)]);
  return step;
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
