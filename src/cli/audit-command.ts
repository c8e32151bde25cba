/** `fdscan [pid...]`: audit processes and print a table or JSON. */
import type { Argv, CommandModule, Options } from 'yargs';
import { auditAllProcesses, auditProcesses, type AuditOptions } from '../audit.js';
import type { ProcessAudit } from '../probe-contract.js';
import { UsageError } from '../errors.js';
import { invokingProcess } from '../invoker.js';
import { auditDocument, auditSetDocument, type AuditFailure } from '../render/audit-json.js';
import { styleFor } from '../render/style.js';
import { errorLine } from '../render/text.js';
import { parsePid, type ArgsOf } from './arguments.js';
import { EXIT_ERROR, EXIT_OK } from './exit-codes.js';

/** The audit's flags: read by its yargs builder and by the yargs-free fast path (fast-path.ts). */
export const AUDIT_OPTIONS = {
  all: { alias: 'a', type: 'boolean', default: false, describe: 'Audit every process this user can read (unreadable ones are counted)' },
  json: { type: 'boolean', default: false, describe: 'Print JSON (schema fdscan/audit@1, or fdscan/audit-set@1 for several processes)' },
  type: { alias: 't', type: 'string', requiresArg: true, describe: 'Only these types, comma-separated: REG,DIR,FIFO,CHR,BLK,LNK,SOCK,eventfd,...' },
  inheritable: { alias: 'i', type: 'boolean', default: false, describe: 'Only descriptors a child started with exec would receive (close-on-exec clear)' },
  peers: { type: 'boolean', default: true, describe: 'Name the other holders of pipes and unix sockets (--no-peers skips the scan of all processes)' },
} as const satisfies Record<string, Options>;

const auditBuilder = (yargs: Argv) =>
  yargs
    .positional('pid', { describe: 'Process id(s) to audit (default: the shell or program that ran fdscan)', type: 'string', array: true })
    .options(AUDIT_OPTIONS)
    .example('$0', 'Audit the shell you are typing in')
    .example('$0 1234 --inheritable', 'Which descriptors would a child of 1234 inherit?')
    .example('$0 1234 -t SOCK --json', 'Sockets of 1234, as JSON')
    .example('$0 --all -i -t REG', 'Regular files that any process would leak to its children');

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
  const options: AuditOptions = {
    peers: argv.peers,
    inheritableOnly: argv.inheritable,
    // A repeated -t arrives as an array, whatever the option's declared type.
    types: argv.type === undefined ? undefined : [argv.type].flat().flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean),
  };
  const style = styleFor(process.stdout);
  if (argv.all) {
    const machine = auditAllProcesses(options);
    const failures: AuditFailure[] = machine.accessDenied.map((pid) => ({ pid, code: 'EACCESS_DENIED', message: 'permission denied' }));
    if (argv.json) {
      write(JSON.stringify({ ...auditSetDocument(machine.audits, failures), unreadable: machine.accessDenied.length }));
    } else {
      const { renderAuditTable, renderMachineSummary } = await loadTableRenderer();
      write(machine.audits.map((a) => renderAuditTable(a, style)).join('\n\n'));
      write(`\n${renderMachineSummary(machine.audits.length, machine.accessDenied.length, machine.vanished.length)}`);
    }
    process.exitCode = EXIT_OK;
    return;
  }
  const pids = argv.pid && argv.pid.length > 0 ? argv.pid.map(parsePid) : [invokingProcess()];
  const results = auditProcesses(pids, options);
  const audits: ProcessAudit[] = [];
  const failures: AuditFailure[] = [];
  for (const result of results) {
    if ('audit' in result) audits.push(result.audit);
    else failures.push({ pid: result.pid, code: result.error.code, message: result.error.message });
  }
  if (argv.json) {
    write(JSON.stringify(pids.length === 1 && audits[0] ? auditDocument(audits[0]) : auditSetDocument(audits, failures)));
  } else if (audits.length > 0) {
    const { renderAuditTable } = await loadTableRenderer();
    write(audits.map((a) => renderAuditTable(a, style)).join('\n\n'));
  }
  for (const failure of failures) process.stderr.write(errorLine(failure.message));
  process.exitCode = failures.length > 0 ? EXIT_ERROR : EXIT_OK;
}

function write(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
