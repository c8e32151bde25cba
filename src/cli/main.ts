/** The fdscan command line: one yargs parser, one module per command. */
import { FdscanError } from '../errors.js';
import { auditCommand, runAudit } from './audit-command.js';
import { EXIT_ERROR } from './exit-codes.js';
import { simpleAuditArgs } from './fast-path.js';

const EPILOGUE = `Exit status:
  0  clean: the audit ran (or the gate found nothing)
  1  the gate found a leak or an unexpected inheritance
  2  bad usage, or a process that does not exist or cannot be read
  A wrapped command's own non-zero exit passes through unchanged.

Inheritable means close-on-exec is clear (Linux, macOS) or HANDLE_FLAG_INHERIT is set
(Windows): a program started by exec receives the descriptor.`;

/** Parse argv and run the chosen command; sets process.exitCode, never calls process.exit. */
export async function main(args: string[]): Promise<void> {
  try {
    // `fdscan PID --json` and the like skip yargs: ~100 ms of start-up (see fast-path.ts).
    const simple = simpleAuditArgs(args);
    if (simple) await runAudit(simple);
    else await parseWithYargs(args);
  } catch (error) {
    if (error instanceof FdscanError) {
      process.stderr.write(`fdscan: ${error.message}\n${error.code === 'EUSAGE' ? "Try 'fdscan --help'.\n" : ''}`);
      process.exitCode = EXIT_ERROR;
      return;
    }
    throw error;
  }
}

async function parseWithYargs(args: string[]): Promise<void> {
  // The tracing commands and yargs load only here: the audit fast path never needs them.
  const [{ default: yargs }, { inheritDiffCommand }, { runCommand }, { gateCommand }, { lifecycleCommand }, { watchCommand }] =
    await Promise.all([
      import('yargs'),
      import('./inherit-diff-command.js'),
      import('./run-command.js'),
      import('./gate-command.js'),
      import('./lifecycle-command.js'),
      import('./watch-command.js'),
    ]);
  const parser = yargs(args)
    .scriptName('fdscan')
    .usage('fdscan: file-descriptor diagnostics\n\nUsage: $0 [pid..] [options]')
    .command(auditCommand)
    .command(inheritDiffCommand)
    .command(runCommand)
    .command(gateCommand)
    .command(lifecycleCommand)
    .command(watchCommand)
    // Everything after -- is the wrapped command's, never fdscan's options.
    .parserConfiguration({ 'populate--': true })
    .epilogue(EPILOGUE)
    .strict()
    .help()
    .alias('help', 'h')
    .version()
    .alias('version', 'V')
    .wrap(Math.min(100, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new FdscanError('EUSAGE', message);
    });
  await parser.parseAsync();
}
