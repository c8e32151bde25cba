/** `fdscan lifecycle -- CMD [ARGS...]`: the Popen lifecycle, step by step, with fdscan's own descriptor table. */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { UsageError } from '../errors.js';
import type { Descriptor } from '../probe-contract.js';
import { runLifecycle, type LifecycleResult } from '../lifecycle/popen-lifecycle.js';
import { paint, styleFor, type Style } from '../render/style.js';
import { EXIT_FINDING, EXIT_OK } from './exit-codes.js';

interface LifecycleArgs {
  json: boolean;
  input?: string;
  '--'?: Array<string | number>;
}

export const lifecycleCommand = {
  command: 'lifecycle',
  describe: 'Open a file, spawn CMD with piped stdio, communicate, wait, release, close: the descriptor table after each step',
  builder: (yargs: Argv) =>
    yargs
      .option('json', { type: 'boolean', default: false, describe: 'Print the steps as JSON (schema fdscan/lifecycle@1)' })
      .option('input', { type: 'string', describe: 'Text written to CMD\'s stdin (default: one line)' })
      .example('$0 lifecycle -- cat', 'Watch the three pipes appear at spawn and close after communicate')
      .epilogue("The report (stdout) lists fdscan's own table after each step, diffed against the step before, and CMD's " +
        'table as read from /proc soon after it started.\n\nExit status: 1 when a descriptor outlived the step that should ' +
        "have closed it; CMD's own when it failed; 2 on bad usage; 0 otherwise."),
  handler: (argv: ArgumentsCamelCase<LifecycleArgs>) => runLifecycleCommand(argv),
};

async function runLifecycleCommand(argv: LifecycleArgs): Promise<void> {
  const command = (argv['--'] ?? []).map(String);
  if (command.length === 0) throw new UsageError('lifecycle needs a command: fdscan lifecycle -- CMD [ARGS...]');
  const result = await runLifecycle(command, { input: argv.input });
  process.stdout.write(argv.json ? `${JSON.stringify({ schema: 'fdscan/lifecycle@1', ...result })}\n` : renderLifecycle(result, styleFor(process.stdout)));
  process.exitCode = result.outlived.length > 0 ? EXIT_FINDING : result.exitCode !== 0 ? result.exitCode : EXIT_OK;
}

function row(sign: string, d: Descriptor): string {
  return `    ${sign} fd ${String(d.fd).padEnd(4)} ${d.type.padEnd(8)} ${d.target}${d.inheritable ? '  (inheritable)' : ''}`;
}

/** The readable report: one block per step. */
export function renderLifecycle(result: LifecycleResult, style: Style): string {
  const lines = [paint(style, 'bold', `fdscan lifecycle: ${result.command.join(' ')} (fdscan pid ${result.pid}, child pid ${result.childPid ?? '?'})`)];
  result.steps.forEach((step, i) => {
    lines.push(`${paint(style, 'cyan', `${i}. ${step.step}`)}: ${step.action}; ${step.fds.length} open`);
    if (i === 0) for (const d of step.fds) lines.push(row(' ', d));
    else for (const d of step.opened) lines.push(paint(style, 'green', row('+', d)));
    for (const d of step.closed) lines.push(paint(style, 'dim', row('-', d)));
    if (step.step === 'spawn' && result.child) {
      lines.push(`    child pid ${result.childPid} received: ${result.child.error ? `(unreadable: ${result.child.error})` : result.child.fds.map((d) => d.fd).join(', ')}`);
      for (const d of result.child.fds) {
        const extra = result.childExtra.find((e) => e.fd === d.fd);
        const note = !extra ? '' : extra.fromFdscan ? '  beyond 0, 1, 2: ambient, fdscan received it itself' : '  beyond 0, 1, 2';
        lines.push(`      fd ${String(d.fd).padEnd(4)} ${d.type.padEnd(8)} ${d.target}${paint(style, 'yellow', note)}`);
      }
    }
  });
  if (result.outlived.length === 0) lines.push(paint(style, 'green', 'No leaks: every descriptor closed at the step that should close it.'));
  for (const o of result.outlived) {
    lines.push(paint(style, 'red', `LEAK fd ${o.descriptor.fd} ${o.descriptor.type} ${o.descriptor.target}: opened at ${o.openedAt}, still open after ${o.shouldCloseAt}`));
  }
  return `${lines.join('\n')}\n`;
}
