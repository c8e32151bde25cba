/**
 * `fdscan gate [--allow SPEC]... [--json] [-o FILE] [--junit FILE] [--config FILE] -- CMD [ARGS...]`:
 * run CMD under the exec tracer and fail when its tree leaks descriptors. CMD owns stdin, stdout
 * and stderr; the report goes to stderr after the tree has exited, or to `--output FILE`.
 */
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../errors.js';
import { errorLine } from '../render/text.js';
import { loadAllowConfig, parseAllow } from '../gate/allow-list.js';
import { judgeTrace } from '../gate/gate-analysis.js';
import { ptraceRefusal } from '../render/ptrace-refusal-text.js';
import { gateOutcome } from '../gate/gate-outcome.js';
import { applyBaseline, readBaseline, writeBaseline, type BaselineEntry } from '../gate/baseline.js';
import { gateDocument, renderGateText, renderGithubAnnotations, renderJunit } from '../render/gate-report.js';
import { PERFETTO_OPTION, perfettoSink, reportSink, reportStyle, traceWrapped } from './traced-command.js';
import { openReportFile, type ReportFile } from '../files/report-file.js';
import { openPageFile } from '../render/html/page.js';
import { writeTracePage } from '../render/html/tree-page.js';
import { passOnReceived, workingDirectory } from './wrapping.js';
import { wrappedCommand, type ArgsOf, type PassThrough } from './arguments.js';

const gateBuilder = (yargs: Argv) =>
  yargs
    .option('allow', { type: 'string', array: true, requiresArg: true, describe: 'Let a descriptor through: a number (3), a type (SOCK), a path glob (/tmp/*.log), or what a program receives (exe:make, exe:**/python3*); fd:, type:, path:, exe: prefixes force the kind' })
    .option('json', { type: 'boolean', default: false, describe: 'Report as JSON (schema fdscan/gate@2) instead of text; on stderr as the text is (stdout is CMD\'s), or to -o FILE' })
    .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: 'Write the report to FILE instead of stderr (stdout belongs to the command)' })
    .option('perfetto', PERFETTO_OPTION)
    .option('junit', { type: 'string', requiresArg: true, describe: 'Also write JUnit XML to FILE: one failing testcase per finding' })
    .option('html', { type: 'string', requiresArg: true, describe: 'Also write one self-contained HTML page to FILE (open it in any browser, from a CI artifact too; it needs no network): the verdict on top, each leak as its path from the process that opened it through every exec that received it, with its origin, then the whole process tree (argv, pid, exit, what each exec received beyond 0, 1, 2), searchable by program, path or pid. The report and the exit status are as without it' })
    .option('allow-unverified', { type: 'boolean', default: false, describe: 'Pass even when some exec\'s table could not be read (a non-dumpable program) or the tree was only sampled; they are still reported' })
    .option('allow-ptrace', { type: 'boolean', default: false, describe: 'Judge the tree even when a program of it could not use ptrace because fdscan is its tracer (strace, gdb, PTRACE_TRACEME): it fails as it would not bare' })
    .option('config', { type: 'string', requiresArg: true, describe: 'Allow list from FILE ({"allow": [...]}) instead of ./fdscan.config.json or package.json "fdscan"' })
    .option('origins', { type: 'boolean', default: true, describe: 'Name where each blamed descriptor was made: the call, its flags ("without O_CLOEXEC") and the call stack, native and Python (default on; Linux exact tracer). A seccomp filter stops only the calls that can make an inheritable descriptor or clear close-on-exec; --no-origins: no filter, no stop, the report as without origins' })
    .option('baseline', { type: 'string', requiresArg: true, describe: 'Findings recorded in FILE pass; only new ones fail' })
    .option('update-baseline', { type: 'boolean', default: false, describe: 'Record every finding of this run in the --baseline FILE (and pass on them)' })
    .example('$0 gate -- npm test', 'Fail the build when a test leaks a descriptor into a child program')
    .example('$0 gate --allow SOCK --allow "/tmp/*.lock" --junit fdscan.xml -- ./smoke.sh', 'With an allow list and a JUnit report')
    .example('$0 gate --baseline fdscan-baseline.json --update-baseline -- npm test', "Record today's findings; later runs with --baseline fail only on new ones")
    .example('$0 gate --perfetto tree.json -- make -j8', 'Also the tree as a Perfetto trace: each finding an instant on the exec that received it')
    .example('$0 gate --no-origins -- make -j8', 'Without origins: no seccomp filter and no stop in the tree')
    .example('$0 gate --html fdscan.html -- npm test', 'Also a page to look at: each leak as a path through the process tree')
    .epilogue('Fails when (1) an exec anywhere in the tree receives a descriptor beyond 0, 1, 2 that was opened inside the ' +
      'tree, or (2) a process re-executes itself and holds more descriptors at each exec. One open file is one finding, ' +
      'with the execs it reached and how to fix it. Descriptors fdscan itself received are reported as ambient, and ' +
      "descriptors passed by a known protocol (make's jobserver, systemd socket activation, ...) as such, never blamed. " +
      'An exec whose table could not be read (a non-dumpable program: execute-only, setuid, setgid) is unverified: the ' +
      'gate exits 2 unless --allow-unverified. A program that tries to trace (strace, gdb, a PTRACE_TRACEME) cannot, as ' +
      'fdscan is already its tracer: the gate says so in one line and exits 2 unless --allow-ptrace; it sees programs that ' +
      'import ptrace from the C library, not statically linked ones or calls through syscall(2). With --baseline FILE, findings recorded there pass (--update-baseline ' +
      'records them). Each leak names its origin: the call that made it, its flags and its stack (see --origins). ' +
      'GitHub Actions ::error lines are added when GITHUB_ACTIONS=true.' +
      ' Tracing: ptrace on Linux (JSON method "ptrace", or "sampling" where refused); on Windows the debug API (method ' +
      '"debug-api", exact: each process read at its creation; a handle is received when its creator held it inheritable ' +
      'at the same value, naming the same object; the standard handles are a protocol).' +
      "\n\nExit status: CMD's own when it failed (128+N for signal N, 127 not found); 1 when CMD passed but the gate found " +
      'leaks; 2 on bad usage, when tracing failed, when an exec was unverified, or when a program could not use ptrace (even when CMD failed: the tracer made it fail); 0 otherwise.');

type GateArgs = ArgsOf<typeof gateBuilder> & PassThrough;

export const gateCommand: CommandModule<{}, GateArgs> = {
  command: 'gate',
  describe: 'Run a command (a test suite, a smoke test) and fail when its process tree leaks descriptors',
  builder: gateBuilder,
  handler: (argv) => runGate(argv),
};

async function runGate(argv: GateArgs): Promise<void> {
  const command = wrappedCommand(argv);
  if (command.length === 0) throw new UsageError('gate needs a command: fdscan gate [--allow SPEC]... -- CMD [ARGS...]');
  // First, before fdscan opens anything that stays open (a report file would look received).
  passOnReceived();
  // Everything that can refuse does so before CMD runs: the config, the rules, the report files.
  const config = loadAllowConfig(workingDirectory(), argv.config);
  const rules = parseAllow([...(argv.allow ?? []).flatMap((a) => String(a)), ...config.specs]);
  const writeReport = reportSink(argv.output);
  const junit = argv.junit ? openReportFile(argv.junit, '--junit') : undefined;
  const page = argv.html ? openPageFile(argv.html, '--html') : undefined;
  const baseline = openBaseline(argv.baseline, argv['update-baseline']);
  const perfetto = perfettoSink(argv.perfetto);
  const trace = await traceWrapped(command, { origins: argv.origins });
  if (!trace) return;
  const verdict = judgeTrace(trace, rules);
  // Updated, the baseline is this run's findings: they pass, and are reported as in the baseline.
  const entries = baseline.update ? writeBaseline(baseline.update, verdict.findings) : baseline.entries;
  const matched = entries ? applyBaseline(verdict, entries) : undefined;
  // Decided once, after the baseline: the exit status and every report show this outcome.
  const refusal = ptraceRefusal(trace);
  const outcome = gateOutcome(verdict, {
    allowUnverified: argv['allow-unverified'], allowPtrace: argv['allow-ptrace'], commandExitCode: trace.exitCode,
    ...(refusal ? { ptraceRefusal: refusal } : {}),
  });
  const context = { outcome, ...(matched ? { baseline: matched } : {}) };
  const report = argv.json
    ? `${JSON.stringify(gateDocument(trace, verdict, context))}\n`
    : renderGateText(trace, verdict, reportStyle(argv.output), context);
  writeReport(report);
  junit?.write(renderJunit(trace, verdict, context));
  perfetto?.(trace, { verdict, summary: `gate ${outcome.passed ? 'passed' : 'failed'}${outcome.reasons.length > 0 ? `: ${outcome.reasons.map((r) => r.summary).join('; ')}` : ''}` });
  if (page) writeTracePage(page, trace, 'fdscan gate', { verdict, outcome });
  if (process.env.GITHUB_ACTIONS === 'true') process.stderr.write(renderGithubAnnotations(trace, verdict, context));
  // A program that could not run under the tracer ends the run as an error does: its one line last.
  const refused = outcome.reasons.find((r) => r.kind === 'ptrace' && r.fails);
  if (refused) process.stderr.write(errorLine(refused.summary));
  process.exitCode = outcome.exitStatus;
}

/**
 * The baseline's entries, read before the command runs so that a missing or bad file is a usage
 * error at once; with --update-baseline none (this run's findings become the baseline), and FILE
 * opened now for them, so that a path that cannot be written refuses before CMD runs.
 */
function openBaseline(file: string | undefined, update: boolean): { entries?: BaselineEntry[]; update?: ReportFile } {
  if (update && !file) throw new UsageError('--update-baseline needs --baseline FILE');
  if (!file) return {};
  if (!update) return { entries: readBaseline(file) };
  return { update: openReportFile(file, '--baseline') };
}
