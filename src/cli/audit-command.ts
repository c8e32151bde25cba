/** `fdscan [pid...]`: audit processes and print a table or JSON. */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { auditAllProcesses, auditProcesses, type AuditOptions } from '../audit.js';
import type { ProcessAudit } from '../probe-contract.js';
import { UsageError } from '../errors.js';
import { invokingProcess } from '../invoker.js';
import { auditDocument, auditSetDocument, type AuditFailure } from '../render/audit-json.js';
import { styleFor } from '../render/style.js';
import { EXIT_ERROR, EXIT_OK } from './exit-codes.js';

/** The audit command's arguments, as yargs (or the fast path) parses them. */
export interface AuditArgs {
  pid?: Array<string | number>;
  all: boolean;
  json: boolean;
  type?: string | string[];
  inheritable: boolean;
  peers: boolean;
}

export const auditCommand = {
  command: '$0 [pid..]',
  describe: 'List every descriptor of a process: type, target, mode, offset and whether children inherit it',
  builder: (yargs: Argv) =>
    yargs
      .positional('pid', { describe: 'Process id(s) to audit (default: the shell or program that ran fdscan)', type: 'string', array: true })
      .option('all', { alias: 'a', type: 'boolean', default: false, describe: 'Audit every process this user can read (unreadable ones are counted)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print JSON (schema fdscan/audit@1, or fdscan/audit-set@1 for several processes)' })
      .option('type', { alias: 't', type: 'string', requiresArg: true, describe: 'Only these types, comma-separated: REG,DIR,FIFO,CHR,BLK,LNK,SOCK,eventfd,...' })
      .option('inheritable', { alias: 'i', type: 'boolean', default: false, describe: 'Only descriptors a child started with exec would receive (close-on-exec clear)' })
      .option('peers', { type: 'boolean', default: true, describe: 'Name the other holders of pipes and unix sockets (--no-peers skips the scan of all processes)' })
      .example('$0', 'Audit the shell you are typing in')
      .example('$0 1234 --inheritable', 'Which descriptors would a child of 1234 inherit?')
      .example('$0 1234 -t SOCK --json', 'Sockets of 1234, as JSON')
      .example('$0 --all -i -t REG', 'Regular files that any process would leak to its children'),
  handler: (argv: ArgumentsCamelCase<AuditArgs>) => runAudit(argv),
};

// cli-table3 and its dependencies cost ~15 ms to load; JSON output never needs them.
const loadTableRenderer = async () => (await import('../render/audit-table.js')).renderAuditTable;

/** Run the audit; throws FdscanError on bad usage or an unreadable process. */
export async function runAudit(argv: AuditArgs): Promise<void> {
  if (argv.all && argv.pid && argv.pid.length > 0) throw new UsageError('give pids or --all, not both');
  const options: AuditOptions = {
    peers: argv.peers,
    inheritableOnly: argv.inheritable,
    types: argv.type === undefined ? undefined : [argv.type].flat().flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean),
  };
  const style = styleFor(process.stdout);
  if (argv.all) {
    const machine = auditAllProcesses(options);
    const failures: AuditFailure[] = machine.accessDenied.map((pid) => ({ pid, code: 'EACCESS_DENIED', message: 'permission denied' }));
    if (argv.json) {
      write(JSON.stringify({ ...auditSetDocument(machine.audits, failures), unreadable: machine.accessDenied.length }));
    } else {
      const renderAuditTable = await loadTableRenderer();
      write(machine.audits.map((a) => renderAuditTable(a, style)).join('\n\n'));
      write(`\n${machine.audits.length} processes audited, ${machine.accessDenied.length} not readable by this user, ${machine.vanished.length} exited meanwhile`);
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
    const renderAuditTable = await loadTableRenderer();
    write(audits.map((a) => renderAuditTable(a, style)).join('\n\n'));
  }
  for (const failure of failures) process.stderr.write(`fdscan: ${failure.message}\n`);
  process.exitCode = failures.length > 0 ? EXIT_ERROR : EXIT_OK;
}

/** A pid argument: a positive integer, or a clear usage error. */
export function parsePid(value: string | number): number {
  const text = String(value).trim();
  if (!/^\d+$/.test(text) || Number(text) <= 0 || Number(text) > 2 ** 31) {
    throw new UsageError(`not a process id: '${text}' (expected a positive number such as 1234)`);
  }
  return Number(text);
}

function write(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
