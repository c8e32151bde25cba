/**
 * `fdscan inherit-diff -- CMD [ARGS...]`: run CMD under the exec tracer and report what every exec
 * of its tree received. CMD owns stdin, stdout and stderr, untouched; the report goes to stderr
 * after CMD's tree has exited, or to `--output FILE`. fdscan's exit status is CMD's own.
 *
 * `fdscan inherit-diff PARENT_PID CHILD_PID`: which of the child's descriptors share an open file
 * description with the parent's; printed on stdout.
 */
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../errors.js';
import { PERFETTO_OPTION, perfettoSink, reportSink, reportStyle, traceWrapped } from './traced-command.js';
import { passOnReceived } from './wrapping.js';
import { diffProcessPair } from '../trace/pair-diff.js';
import { inheritDiffDocument } from '../render/inherit-diff-json.js';
import { renderInheritDiff } from '../render/inherit-diff-text.js';
import { renderInheritPair } from '../render/inherit-pair-text.js';
import { openPageFile } from '../render/html/page.js';
import { writeTracePage } from '../render/html/tree-page.js';
import { styleFor } from '../render/style.js';
import { wrappedCommand, type ArgsOf, type PassThrough } from './arguments.js';
import { parsePid } from '../audit/pid.js';
import { EXIT_OK } from '../exit-codes.js';

const inheritDiffBuilder = (yargs: Argv) =>
  yargs
    .positional('pids', { describe: 'PARENT_PID CHILD_PID: compare two live processes instead of running a command', type: 'string', array: true })
    .option('json', { type: 'boolean', default: false, describe: 'Report as JSON (schema fdscan/inherit-diff@1); on stderr as the text is (stdout is CMD\'s), or to -o FILE' })
    .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: 'Write the report to FILE instead of stderr (stdout belongs to the command)' })
    .option('perfetto', PERFETTO_OPTION)
    .option('sample', { type: 'boolean', default: false, describe: 'Sample /proc instead of ptrace (inexact: short processes can be missed)' })
    .option('origins', { type: 'boolean', default: true, describe: 'Name where each blamed descriptor was made: the call, its flags ("without O_CLOEXEC") and the call stack, native and Python (default on; Linux exact tracer). A seccomp filter stops only the calls that can make an inheritable descriptor or clear close-on-exec; --no-origins: no filter, no stop, the report as without origins' })
    .option('html', { type: 'string', requiresArg: true, describe: 'With -- CMD, also write one self-contained HTML page to FILE (any browser, no network): the process tree, each process with its argv, pid, exit and what each exec received beyond 0, 1, 2 (ambient and protocol descriptors marked as such, with origins), collapsible and searchable by program, path or pid' })
    .option('only-extra', { type: 'boolean', default: false, describe: 'Show only the execs that received something beyond 0, 1, 2 and the ambient descriptors' })
    .example('$0 inherit-diff -- make test', "What did each program of make's tree inherit?")
    .example('$0 inherit-diff --json -o tree.json -- ./run.sh', 'The same as JSON, in a file')
    .example('$0 inherit-diff --perfetto tree.json -- make test', 'Also the tree as a Perfetto trace (ui.perfetto.dev)')
    .example('$0 inherit-diff --only-extra -- python3 app.py', 'Only the programs that received more than stdio and what fdscan itself was given')
    .example('$0 inherit-diff --html tree.html -- make -j8', 'Also a page of the whole tree, to look at and search')
    .example('$0 inherit-diff 1234 1240', 'Which descriptors of 1240 are copies of 1234\'s?')
    .epilogue('With -- CMD: exit status is CMD\'s own (128+N when a signal N killed it), 127 when CMD is not found,\n' +
      '2 when tracing failed. Signals sent to fdscan (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and the other asynchronous ones) are forwarded to every process of the tree.\n' +
      'Started from a shell on a terminal, CMD runs as a job of its own: Ctrl-C reaches it once, Ctrl-Z, fg and bg work.\n' +
      'Report marks: "+" a descriptor beyond 0, 1, 2 that the tree passed on; "p" one passed by a known protocol (make\'s ' +
      'jobserver, systemd socket activation, ...); "a" ambient, received by fdscan itself (listed once at the top). ' +
      'Under each "+" row, its origin: the call that made it, with its flags and stack (--no-origins: none).\n' +
      'Method: ptrace on Linux (--sample: /proc sampled); the debug API on Windows (exact, JSON method "debug-api"; --sample: a job ' +
      'object, each process read once it runs, method "sampling").');

type InheritDiffArgs = ArgsOf<typeof inheritDiffBuilder> & PassThrough;

export const inheritDiffCommand: CommandModule<{}, InheritDiffArgs> = {
  command: 'inherit-diff [pids..]',
  describe: 'Run a command and show exactly which descriptors every exec of its process tree received',
  builder: inheritDiffBuilder,
  handler: (argv) => runInheritDiff(argv),
};

async function runInheritDiff(argv: InheritDiffArgs): Promise<void> {
  const command = wrappedCommand(argv);
  const pids = argv.pids ?? [];
  if (command.length > 0 && pids.length > 0) throw new UsageError('give either -- CMD or PARENT_PID CHILD_PID, not both');
  if (command.length === 0) {
    if (pids.length !== 2) throw new UsageError('inherit-diff needs -- CMD [ARGS...] or exactly two pids: PARENT_PID CHILD_PID');
    if (argv.perfetto !== undefined) throw new UsageError('--perfetto goes with -- CMD: two live processes have no tree to trace');
    if (argv.html !== undefined) throw new UsageError('--html needs -- CMD: a page shows a traced tree, not two live processes');
    const diff = diffProcessPair(parsePid(pids[0]!), parsePid(pids[1]!));
    process.stdout.write(argv.json ? `${JSON.stringify({ schema: 'fdscan/inherit-pair@1', ...diff })}\n` : renderInheritPair(diff, styleFor(process.stdout)));
    process.exitCode = EXIT_OK;
    return;
  }
  passOnReceived(); // before the report file is opened: it would look received
  const writeReport = reportSink(argv.output);
  const perfetto = perfettoSink(argv.perfetto);
  const page = argv.html ? openPageFile(argv.html, '--html') : undefined;
  const trace = await traceWrapped(command, { method: argv.sample ? 'sampling' : 'auto', fullStdio: argv.json, origins: argv.origins });
  if (!trace) return;
  const onlyExtra = argv['only-extra'];
  const report = argv.json ? `${JSON.stringify(inheritDiffDocument(trace, { onlyExtra }))}\n` : renderInheritDiff(trace, reportStyle(argv.output), { onlyExtra });
  writeReport(report);
  perfetto?.(trace);
  if (page) writeTracePage(page, trace, 'fdscan inherit-diff');
  process.exitCode = trace.exitCode;
}
