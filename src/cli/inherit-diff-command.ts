/**
 * `fdscan inherit-diff -- CMD [ARGS...]`: run CMD under the exec tracer and report what every exec
 * of its tree received. CMD owns stdin, stdout and stderr, untouched; the report goes to stderr
 * after CMD's tree has exited, or to `--output FILE`. fdscan's exit status is CMD's own.
 *
 * `fdscan inherit-diff PARENT_PID CHILD_PID`: which of the child's descriptors share an open file
 * description with the parent's; printed on stdout.
 */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { UsageError } from '../errors.js';
import { reportStyle, traceWrapped, writeReport } from './traced-command.js';
import { diffProcessPair, type PairDiff } from '../trace/pair-diff.js';
import { inheritDiffDocument } from '../render/inherit-diff-json.js';
import { renderInheritDiff } from '../render/inherit-diff-text.js';
import { paint, styleFor, type Style } from '../render/style.js';
import { parsePid } from './audit-command.js';
import { EXIT_OK } from './exit-codes.js';

/** Status a shell gives a command it cannot find. */

interface InheritDiffArgs {
  pids?: Array<string | number>;
  json: boolean;
  output?: string;
  sample: boolean;
  '--'?: Array<string | number>;
}

export const inheritDiffCommand = {
  command: 'inherit-diff [pids..]',
  describe: 'Run a command and show exactly which descriptors every exec of its process tree received',
  builder: (yargs: Argv) =>
    yargs
      .positional('pids', { describe: 'PARENT_PID CHILD_PID: compare two live processes instead of running a command', type: 'string', array: true })
      .option('json', { type: 'boolean', default: false, describe: 'Report as JSON (schema fdscan/inherit-diff@1)' })
      .option('output', { alias: 'o', type: 'string', describe: 'Write the report to FILE instead of stderr (stdout belongs to the command)' })
      .option('sample', { type: 'boolean', default: false, describe: 'Sample /proc instead of ptrace (inexact: short processes can be missed)' })
      .example('$0 inherit-diff -- make test', "What did each program of make's tree inherit?")
      .example('$0 inherit-diff --json -o tree.json -- ./run.sh', 'The same as JSON, in a file')
      .example('$0 inherit-diff 1234 1240', 'Which descriptors of 1240 are copies of 1234\'s?')
      .epilogue('With -- CMD: exit status is CMD\'s own (128+N when a signal N killed it), 127 when CMD is not found,\n' +
        '2 when tracing failed. SIGINT and SIGTERM sent to fdscan are forwarded to every process of the tree.\n' +
        'Report marks: "+" a descriptor beyond 0, 1, 2 that the tree passed on; "a" ambient, received by fdscan itself.'),
  handler: (argv: ArgumentsCamelCase<InheritDiffArgs>) => runInheritDiff(argv),
};

async function runInheritDiff(argv: InheritDiffArgs): Promise<void> {
  const command = (argv['--'] ?? []).map(String);
  const pids = argv.pids ?? [];
  if (command.length > 0 && pids.length > 0) throw new UsageError('give either -- CMD or PARENT_PID CHILD_PID, not both');
  if (command.length === 0) {
    if (pids.length !== 2) throw new UsageError('inherit-diff needs -- CMD [ARGS...] or exactly two pids: PARENT_PID CHILD_PID');
    const diff = diffProcessPair(parsePid(pids[0]!), parsePid(pids[1]!));
    process.stdout.write(argv.json ? `${JSON.stringify({ schema: 'fdscan/inherit-pair@1', ...diff })}\n` : renderPair(diff, styleFor(process.stdout)));
    process.exitCode = EXIT_OK;
    return;
  }
  const trace = await traceWrapped(command, argv.sample ? 'sampling' : 'auto');
  if (!trace) return;
  const report = argv.json ? `${JSON.stringify(inheritDiffDocument(trace))}\n` : renderInheritDiff(trace, reportStyle(argv.output));
  writeReport(argv.output, report);
  process.exitCode = trace.exitCode;
}

function renderPair(diff: PairDiff, style: Style): string {
  const lines = [paint(style, 'bold', `Descriptors of pid ${diff.child} shared with pid ${diff.parent}: ${diff.shared.length}; not the parent's: ${diff.childOnly.length}`)];
  for (const warning of diff.warnings) lines.push(`warning: ${warning}`);
  for (const d of diff.shared) {
    const how = d.match === 'kcmp' ? 'same open file description (kcmp)' : 'same file, a guess (no kcmp)';
    lines.push(`  fd ${String(d.fd).padEnd(4)} ${d.type.padEnd(8)} ${d.target}  <- parent fd ${d.parentFd}, ${how}${d.inheritable === false ? ', close-on-exec now' : ''}`);
  }
  for (const d of diff.childOnly) lines.push(`  fd ${String(d.fd).padEnd(4)} ${d.type.padEnd(8)} ${d.target}  (not the parent's)`);
  return `${lines.join('\n')}\n`;
}
