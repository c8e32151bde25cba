/** `fdscan [pid...]`: audit processes and print a table or JSON. */
import type { Argv, ArgumentsCamelCase } from 'yargs';
import { auditAllProcesses, auditProcesses, type AuditOptions, type AuditOutcome } from '../audit.js';
import { AccessDenied, NoSuchProcess, UsageError } from '../errors.js';
import { invokingProcess } from '../invoker.js';
import { auditDocument, auditSetDocument } from '../render/audit-json.js';
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
  const pids = argv.all ? undefined : argv.pid && argv.pid.length > 0 ? argv.pid.map(parsePid) : [invokingProcess()];
  const outcomes = pids ? auditProcesses(pids, options) : auditAllProcesses(options);
  const audits = outcomes.flatMap((o) => (o.audit ? [o.audit] : []));
  // With --all, processes this user may not read and processes that exit meanwhile are expected.
  const expected = (o: AuditOutcome): boolean => argv.all && (o.error instanceof AccessDenied || o.error instanceof NoSuchProcess);
  const failures = outcomes.filter((o) => o.error && !expected(o));
  if (argv.json) {
    const document = pids?.length === 1 && audits[0] ? auditDocument(audits[0]) : auditSetDocument(outcomes);
    if (argv.all) document.unreadable = outcomes.filter((o) => o.error instanceof AccessDenied).length;
    write(JSON.stringify(document));
  } else {
    if (audits.length > 0) {
      const renderAuditTable = await loadTableRenderer();
      write(audits.map((a) => renderAuditTable(a, style)).join('\n\n'));
    }
    if (argv.all) {
      const count = (error: typeof AccessDenied | typeof NoSuchProcess): number => outcomes.filter((o) => o.error instanceof error).length;
      write(`\n${audits.length} processes audited, ${count(AccessDenied)} not readable by this user, ${count(NoSuchProcess)} exited meanwhile`);
    }
  }
  for (const failure of failures) process.stderr.write(`fdscan: ${failure.error!.message}\n`);
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
