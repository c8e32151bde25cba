/** `fdscan lifecycle -- CMD [ARGS...]`: the Popen lifecycle, step by step, with fdscan's own descriptor table. */
import type { Argv, CommandModule } from 'yargs';
import { heeded } from '../caller-state.js';
import { UsageError } from '../errors.js';
import { runLifecycle, type LifecycleResult } from '../lifecycle/popen-lifecycle.js';
import { renderLifecycle } from '../render/lifecycle-text.js';
import { styleFor } from '../render/style.js';
import { wrappedCommand, type ArgsOf, type PassThrough } from './arguments.js';
import { exactCommand } from '../invocation.js';
import { EXIT_FINDING, EXIT_OK } from './exit-codes.js';
import { shellStatus } from '../probe-kit/exit-status.js';
import { passOnReceived } from './wrapping.js';
import { onTerminal } from '../job-control.js';
import { openPageFile } from '../render/html/page.js';
import { writeLifecyclePage } from '../render/html/lifecycle-page.js';

/** Signals that stop the experiment: the child gets the same one (it is out of the terminal's reach, see ownSession). */
const STOPPING_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

const lifecycleBuilder = (yargs: Argv) =>
  yargs
    .option('json', { type: 'boolean', default: false, describe: 'Print the steps as JSON (schema fdscan/lifecycle@1)' })
    .option('origins', { type: 'boolean', default: true, describe: "Give each leak an origin; here always fdscan's own step (fdscan does not trace itself). --no-origins: the report as without origins" })
    .option('html', { type: 'string', requiresArg: true, describe: "Also write one self-contained HTML page to FILE (any browser, no network): the verdict, each leak with its origin, the child and what it received beyond 0, 1, 2, and fdscan's table after each step. Opened after CMD ran, so that it is not in the tables the report shows" })
    .option('input', { type: 'string', requiresArg: true, describe: 'Text written to CMD\'s stdin (default: one line)' })
    .example('$0 lifecycle -- cat', 'Watch the three pipes appear at spawn and close after communicate')
    .example('$0 lifecycle --html lifecycle.html -- cat', 'The same steps as a page')
    .epilogue("The report (stdout) lists fdscan's own table after each step, diffed against the step before, and CMD's " +
      'table as read from /proc soon after it started (held stopped before its exec on Linux; on Windows read as soon as it started: ' +
      'the handles it holds that fdscan held inheritable).\n\nExit status: 1 when a descriptor outlived the step that should ' +
      "have closed it; CMD's own when it failed; 2 on bad usage; 0 otherwise.");

type LifecycleArgs = ArgsOf<typeof lifecycleBuilder> & PassThrough;

export const lifecycleCommand: CommandModule<{}, LifecycleArgs> = {
  command: 'lifecycle',
  describe: 'Open a file, spawn CMD with piped stdio, communicate, wait, release, close: the descriptor table after each step',
  builder: lifecycleBuilder,
  handler: (argv) => runLifecycleCommand(argv),
};

async function runLifecycleCommand(argv: LifecycleArgs): Promise<void> {
  const command = wrappedCommand(argv);
  if (command.length === 0) throw new UsageError('lifecycle needs a command: fdscan lifecycle -- CMD [ARGS...]');
  passOnReceived();
  // SIGINT, SIGTERM, SIGHUP, SIGQUIT: stop the child, clean up, print what was seen, and die of it as a shell would say (128+N).
  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals): void => controller.abort(signal);
  for (const signal of heeded(STOPPING_SIGNALS)) process.once(signal, stop);
  let result;
  try {
    result = await runLifecycle(command, { input: argv.input, signal: controller.signal, exact: exactCommand(command), ownSession: onTerminal() });
  } finally {
    for (const signal of heeded(STOPPING_SIGNALS)) process.off(signal, stop);
  }
  if (!argv.origins) withoutOrigins(result);
  process.stdout.write(argv.json ? `${JSON.stringify({ schema: 'fdscan/lifecycle@1', ...result })}\n` : renderLifecycle(result, styleFor(process.stdout)));
  const status = result.interrupted ? shellStatus(undefined, result.interrupted as NodeJS.Signals)
    : result.outlived.length > 0 ? EXIT_FINDING : result.exitCode !== 0 ? result.exitCode : EXIT_OK;
  // The page's file is opened only now: open during the run, it would be a row of fdscan's own table.
  if (argv.html !== undefined) writeLifecyclePage(openPageFile(argv.html, '--html'), result, status);
  process.exitCode = status;
}

/** --no-origins: the result as it was before origins existed. */
function withoutOrigins(result: LifecycleResult): void {
  for (const o of result.outlived) delete (o as Partial<typeof o>).origin;
  for (const d of result.childExtra) delete (d as Partial<typeof d>).origin;
}
