/**
 * How a probe starts a command so that it gets what fdscan's caller gave (the stub's `sh -c` step),
 * and the byte-string helpers that needs. Pure: the caller's state comes in as data (CallerState),
 * recorded by src/launch/caller-state.ts, which wraps shellStep with its own record.
 */
import { isUtf8 } from 'node:buffer';
import { constants } from 'node:os';

/** What fdscan's caller gave it that Node took away (src/launch/caller-state.ts records it). */
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
 * `caller` crosses to a tracer thread as data.
 */
export function shellStep(body: string, argv: readonly Uint8Array[], env: readonly Uint8Array[], options: { caller: CallerState; text?: boolean; stdioAsGiven?: boolean }): ShellStep {
  const caller = options.caller;
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
