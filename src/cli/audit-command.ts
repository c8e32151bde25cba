/** `fdscan [pid...]`: audit processes and print a table or JSON. */
import type { Argv, CommandModule, Options } from 'yargs';
import { auditAllProcesses, auditProcesses, type AuditOptions, type AuditOutcome } from '../audit/audit.js';
import { AccessDenied, NoSuchProcess, UsageError } from '../errors.js';
import { PROCESS_FIELD_NAMES } from '../probe-kit/contract.js';
import { invokingProcess } from '../launch/invoker.js';
import { auditDocument, auditSetDocument, jsonPieces } from '../render/audit-json.js';
import { styleFor } from '../render/style.js';
import { errorLine } from '../render/text.js';
import type { ArgsOf } from './arguments.js';
import { parsePid } from '../audit/pid.js';
import { SELECTION_OPTIONS, selectionFrom } from './selection-options.js';
import { filters, selectProcesses } from '../audit/selection.js';
import { EXIT_ERROR, EXIT_OK } from '../exit-codes.js';

/** The audit's flags: read by its yargs builder and by the yargs-free fast path (fast-path.ts). */
export const AUDIT_OPTIONS = {
  all: { alias: 'a', type: 'boolean', default: false, describe: 'Audit every process this user can read (unreadable ones are counted)' },
  ...SELECTION_OPTIONS,
  json: { type: 'boolean', default: false, describe: 'Print JSON (schema fdscan/audit@1, or fdscan/audit-set@1 for several processes)' },
  type: { alias: 't', type: 'string', requiresArg: true, describe: 'Only these types, comma-separated, any case: REG,DIR,FIFO,CHR,BLK,LNK,SOCK,eventfd,... (an unknown type is an error)' },
  inheritable: { alias: 'i', type: 'boolean', default: false, describe: 'Only descriptors a child started with exec would receive (close-on-exec clear)' },
  peers: { type: 'boolean', default: true, describe: 'Name the other holders of pipes and sockets (--no-peers skips the scan of all processes)' },
  fields: {
    type: 'string', requiresArg: true,
    describe: `Only these process fields, comma-separated, as lsfd's -o: ${PROCESS_FIELD_NAMES.join(',')} (pid, platform, fds, errors and the marks always; ` +
      'argv, uid and limits left out are not read: faster --all)',
  },
} as const satisfies Record<string, Options>;

const auditBuilder = (yargs: Argv) =>
  yargs
    .positional('pid', { describe: 'Process id(s) to audit (default: the shell or program that ran fdscan)', type: 'string', array: true })
    .options(AUDIT_OPTIONS)
    .example('$0', 'Audit the shell you are typing in')
    .example('$0 1234 --inheritable', 'Which descriptors would a child of 1234 inherit?')
    .example('$0 1234 -t SOCK --json', 'Sockets of 1234, as JSON')
    .example('$0 --all -i -t REG', 'Regular files that any process would leak to its children')
    .example('$0 --all --json --fields pid,command', 'Every descriptor of the machine, without reading argv, owners or limits');

/** The audit command's arguments, as yargs (or the fast path) parses them. */
export type AuditArgs = ArgsOf<typeof auditBuilder>;

export const auditCommand: CommandModule<{}, AuditArgs> = {
  command: '$0 [pid..]',
  describe: 'List every descriptor of a process: type, target, mode, offset and whether children inherit it',
  builder: auditBuilder,
  handler: (argv) => runAudit(argv),
};

// cli-table3 and its dependencies cost ~15 ms to load; JSON output never needs them.
const loadTableRenderer = async () => await import('../render/audit-table.js');

/** Run the audit; throws FdscanError on bad usage or an unreadable process. */
export async function runAudit(argv: AuditArgs): Promise<void> {
  if (argv.all && argv.pid && argv.pid.length > 0) throw new UsageError('give pids or --all, not both');
  // -t may be repeated (-t SOCK -t REG is -t SOCK,REG): yargs gives the repeats as an array.
  const types = argv.type === undefined ? undefined : [argv.type].flat().flatMap((t) => String(t).split(',')).map((t) => t.trim()).filter(Boolean);
  if (types?.length === 0) throw new UsageError('-t/--type needs at least one type: -t SOCK,REG');
  // --fields may be repeated too, and is checked by the audit (an unknown field is a usage error).
  const fields = argv.fields === undefined ? undefined : [argv.fields].flat().flatMap((f) => String(f).split(',')).map((f) => f.trim()).filter(Boolean);
  const options: AuditOptions = { peers: argv.peers, inheritableOnly: argv.inheritable, types, fields };
  const style = styleFor(process.stdout);
  // -c and -u select among every process (or the pids given) and report as --all does.
  const selected = filters(argv) ? selectProcesses(selectionFrom(argv)) : undefined;
  const many = argv.all || selected !== undefined;
  const pids = selected ? selected.pids : argv.all ? undefined : argv.pid && argv.pid.length > 0 ? argv.pid.map(parsePid) : [invokingProcess()];
  const found = pids ? auditProcesses(pids, options) : auditAllProcesses(options);
  // A machine-wide audit leaves out kernel threads, which hold no descriptor table, and counts them.
  const outcomes = many ? found.filter((o) => !o.audit?.kernelThread) : found;
  const kernelThreads = found.length - outcomes.length;
  const audits = outcomes.flatMap((o) => (o.audit ? [o.audit] : []));
  // With --all, processes this user may not read and processes that exit meanwhile are expected.
  const expected = (o: AuditOutcome): boolean => many && (o.error instanceof AccessDenied || o.error instanceof NoSuchProcess);
  const failures = outcomes.filter((o) => o.error && !expected(o));
  if (argv.json) {
    const document = !many && pids?.length === 1 && audits[0] ? auditDocument(audits[0], fields) : auditSetDocument(outcomes, fields);
    if (many) {
      document.unreadable = outcomes.filter((o) => o.error instanceof AccessDenied).length + (selected?.unreadable ?? 0);
      document.kernelThreads = kernelThreads;
    }
    for (const piece of jsonPieces(document)) process.stdout.write(piece);
    process.stdout.write('\n');
  } else {
    const { renderAudit, renderMachineSummary } = await loadTableRenderer();
    // Written block by block as rendered: a table of 20,000 rows is never one string.
    audits.forEach((audit, i) => {
      if (i > 0) write('');
      for (const block of renderAudit(audit, style)) write(block);
    });
    if (many) {
      const count = (error: typeof AccessDenied | typeof NoSuchProcess): number => outcomes.filter((o) => o.error instanceof error).length;
      write(`\n${renderMachineSummary({ audited: audits.length, unreadable: count(AccessDenied) + (selected?.unreadable ?? 0), vanished: count(NoSuchProcess), kernelThreads }, style)}`);
    }
  }
  for (const failure of failures) process.stderr.write(errorLine(failure.error!.message));
  process.exitCode = failures.length > 0 ? EXIT_ERROR : EXIT_OK;
}

function write(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
