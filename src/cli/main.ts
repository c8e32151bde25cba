/** The fdscan command line: one yargs parser, one module per command. */
import { callerState, keepCallerIgnores, takeCallerState } from '../launch/caller-state.js';
import { noteInvocation } from '../launch/invocation.js';
import { FdscanError, errnoOf } from '../errors.js';
import { errorLine } from '../render/text.js';
import { auditCommand, runAudit } from './audit-command.js';
import { EXIT_ERROR, EXIT_INTERNAL } from '../exit-codes.js';
import { noteReceived, workingDirectory } from './wrapping.js';
import { simpleAuditArgs } from './fast-path.js';
import { checkOptionValues, operandsAfterDashes, type DeclaredOptions } from './arguments.js';
import { probeFor } from '../platform/probe.js';
import type { Argv, CommandModule } from 'yargs';
import { createRequire } from 'node:module';

/** fdscan's version, put in by bin/bundle.js (an esbuild `define`); undeclared outside the bundle. */
declare const FDSCAN_VERSION: string | undefined;

/**
 * fdscan's own version for --version. Not yargs' guess: it reads the package.json above the
 * node_modules that holds yargs, which in a project with fdscan among its devDependencies (yargs
 * hoisted beside it) is the project's, so `npx fdscan --version` printed the project's version.
 */
function ownVersion(): string {
  if (typeof FDSCAN_VERSION === 'string') return FDSCAN_VERSION;
  return (createRequire(import.meta.url)('../../../package.json') as { version: string }).version;
}

const EPILOGUE = `Exit status:
  0  clean: the audit ran (or the gate found nothing)
  1  the gate found a leak or an unexpected inheritance
  2  bad usage, or a process that does not exist or cannot be read
  70 an internal error: a bug in fdscan (FDSCAN_DEBUG=1 prints its stack)
  A wrapped command's own non-zero exit passes through unchanged.

Inheritable means close-on-exec is clear (Linux, macOS) or HANDLE_FLAG_INHERIT is set
(Windows): a program started by exec receives the descriptor.`;

/**
 * Said once, in --help, where fdscan started without its launcher (bin/fdscan) on Linux or macOS:
 * what Node reset before any JavaScript ran cannot be given back to a wrapped command.
 */
const CALLER_UNKNOWN = `

Started without its launcher (as \`node bin/fdscan.js\`), fdscan cannot know the signals its caller
ignored, its soft descriptor limit or which of 0-2 it closed: a command it wraps gets Node's.`;

/** Parse argv and run the chosen command; sets process.exitCode, never calls process.exit. */
export async function main(args: string[]): Promise<void> {
  noteReceived(args);
  // What the POSIX launcher recorded of the caller before Node reset it: out of the environment
  // before anything is spawned, and the caller's ignored signals stay ignored here too.
  takeCallerState();
  keepCallerIgnores();
  noteInvocation(args);
  // A bug thrown outside the command's promise (an event handler, a stream) is still one line;
  // nothing is left to finish after it, so the process ends there.
  // Node opens its inspector on 127.0.0.1:9229 at SIGUSR1; fdscan may run as root: a listener stops that.
  process.on('SIGUSR1', () => {});
  process.once('uncaughtException', (error) => {
    reportFailure(error);
    process.exit();
  });
  try {
    // `fdscan PID --json` and the like skip yargs: ~100 ms of start-up (see fast-path.ts).
    const simple = simpleAuditArgs(args);
    if (simple) await runAudit(simple);
    else {
      if (tracesCommand(args)) probeFor().tracer?.prepare?.();
      await parseWithYargs(args);
    }
  } catch (error) {
    reportFailure(error);
  }
}

/**
 * The one place an error becomes output: an FdscanError is one line and exit 2; anything else is a
 * bug: one line asking for a report, exit 70, the stack only with FDSCAN_DEBUG=1.
 */
export function reportFailure(error: unknown): void {
  const debug = process.env.FDSCAN_DEBUG === '1';
  if (error instanceof FdscanError) {
    // Bad usage points to the help on the same line: every failure is one line (README.md, Exit status).
    process.stderr.write(errorLine(error.code === 'EUSAGE' ? `${error.message} (see fdscan --help)` : error.message));
    if (debug && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exitCode = EXIT_ERROR;
    return;
  }
  const code = errnoOf(error);
  // The reader of fdscan's output went away (`fdscan --all | head -1`): nothing more to say to anyone.
  if (code === 'EPIPE') return;
  if (code !== undefined) {
    // A system call that failed outside a probe (loading a module, writing a report): the
    // machine's condition, not a bug in fdscan.
    const hint = code === 'EMFILE' ? ' (raise the descriptor limit: ulimit -n)' : '';
    process.stderr.write(errorLine(`${(error as Error).message}${hint}`));
    if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exitCode = EXIT_ERROR;
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(errorLine(`internal error: ${message.split('\n')[0]} (a bug: please report it${debug ? '' : ', with FDSCAN_DEBUG=1 for the details'})`));
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exitCode = EXIT_INTERNAL;
}

/** Commands that trace their CMD (`gate ... -- CMD`): their tracer thread starts while yargs loads and parses. */
const TRACING = new Set(['gate', 'inherit-diff']);

/** Whether `args` will trace a CMD, as far as can be told before parsing: worth starting the tracer thread. */
function tracesCommand(args: string[]): boolean {
  const end = args.indexOf('--');
  if (end < 1 || !TRACING.has(args[0]!) || process.platform !== 'linux') return false;
  return !args.slice(0, end).some((arg) => ['--help', '-h', '--version', '-V'].includes(arg));
}

/**
 * Each command's module, loaded when that command runs: `fdscan gate ...` loads neither serve's
 * HTTP server nor top's screen. In the order --help lists them.
 */
const COMMANDS: Record<string, () => Promise<CommandModule<any, any>>> = {
  'inherit-diff': async () => (await import('./inherit-diff-command.js')).inheritDiffCommand,
  run: async () => (await import('./run-command.js')).runCommand,
  gate: async () => (await import('./gate-command.js')).gateCommand,
  lifecycle: async () => (await import('./lifecycle-command.js')).lifecycleCommand,
  watch: async () => (await import('./watch-command.js')).watchCommand,
  top: async () => (await import('./top-command.js')).topCommand,
  metrics: async () => (await import('./metrics-command.js')).metricsCommand,
  serve: async () => (await import('./serve-command.js')).serveCommand,
};

/**
 * Once a command's handler has started, yargs renders the whole help text and keeps it for a later
 * showHelp() (~35 ms of every gate, run, inherit-diff...; more with Intl.Segmenter's first use).
 * fdscan never shows help from a handler, and its fail() throws, so that text is thrown away.
 * yargs offers no option for it: this reaches into its internals (getInternalMethods, not public),
 * and returns whether it could; test/cli/yargs-internals.test.ts fails when a yargs release moves them.
 */
export function withoutHelpCache(parser: Argv): boolean {
  const usage = (parser as unknown as { getInternalMethods?(): { getUsageInstance?(): { cacheHelpMessage?: () => void } } })
    .getInternalMethods?.().getUsageInstance?.();
  if (typeof usage?.cacheHelpMessage !== 'function') return false;
  usage.cacheHelpMessage = () => {};
  return true;
}

/** What yargs says, through updateStrings, of an option given without its value: then the option's name. */
const NEEDS_VALUE = 'fdscan: needs a value: ';

async function parseWithYargs(args: string[]): Promise<void> {
  // yargs and the commands load only here: the audit fast path never needs them. A first argument
  // naming a command needs that command alone (yargs would match nothing else); anything else
  // (--help, --version, an audit yargs parses, a misspelt command) gets them all.
  const first = args[0] ?? '';
  const loaders = Object.hasOwn(COMMANDS, first) ? [COMMANDS[first]!] : Object.values(COMMANDS);
  const [{ default: yargs }, ...commands] = await Promise.all([import('yargs'), ...loaders.map((load) => load())]);
  const parser = yargs(args, workingDirectory() ?? '/')
    .scriptName('fdscan')
    .usage('fdscan: file-descriptor diagnostics\n\nUsage: $0 [pid..] [options]')
    .command(auditCommand);
  for (const command of commands) parser.command(command);
  parser
    // Everything after -- is the wrapped command's, never fdscan's options.
    .parserConfiguration({ 'populate--': true })
    .epilogue(process.platform === 'win32' || callerState().recorded ? EPILOGUE : EPILOGUE + CALLER_UNKNOWN)
    .strict()
    .help()
    .alias('help', 'h')
    .version(ownVersion())
    .alias('version', 'V')
    .wrap(Math.min(100, process.stdout.columns || 100))
    .exitProcess(false)
    // yargs' message for an option without its value, in words fdscan matches in fail() below
    // (yargs' own is in the caller's language: LANG=de_DE gave German). Public API: updateStrings.
    .updateStrings({ 'Not enough arguments following: %s': `${NEEDS_VALUE}%s` })
    // One rule for every command's options and operands, in arguments.ts.
    .middleware((argv) => operandsAfterDashes(argv as Parameters<typeof operandsAfterDashes>[0]), true)
    .check((argv, options) => checkOptionValues(argv, options as unknown as DeclaredOptions))
    .fail((message, error) => {
      // yargs' own parse errors (an option without its value: "Not enough arguments following: o")
      // are bad usage like its messages; anything else is what a handler threw.
      if (error && error.name !== 'YError') throw error;
      // Some of yargs' messages are several lines ("Invalid values:\n  Argument: sort, ..."): one line here.
      const text = (message ?? error?.message ?? 'bad usage').replace(/:?\s*\n\s*/g, ': ');
      const missing = text.startsWith(NEEDS_VALUE) ? text.slice(NEEDS_VALUE.length) : undefined;
      throw new FdscanError('EUSAGE', missing ? `${missing.length === 1 ? '-' : '--'}${missing} needs a value` : text);
    });
  withoutHelpCache(parser);
  await parser.parseAsync();
}
