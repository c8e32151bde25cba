/**
 * The metrics of a reading as Prometheus scrapes them: OpenMetrics 1.0 text (ends with `# EOF`),
 * or the Prometheus text format 0.0.4 for a scraper that does not ask for OpenMetrics. Every
 * family is a gauge, so the two differ only in `# UNIT` and `# EOF`; node_exporter's textfile
 * collector reads either (it takes both lines for comments).
 *
 * Label values are escaped as both formats say (`\\`, `\"`, `\n`) and are otherwise the exact
 * names. For a terminal, other control characters are shown as text.ts escapes them as well, so a
 * command name cannot drive the terminal; that output is for reading, not for a scraper.
 */
import type { CommandReading, MetricsReading, ProcessReading } from './reading.js';
import { escapeText } from '../render/text.js';

export type ExpositionFormat = 'openmetrics' | 'prometheus';

/** The Content-Type of each format. */
export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
  prometheus: 'text/plain; version=0.0.4; charset=utf-8',
};

/** Whether an Accept header asks for OpenMetrics (Prometheus sends it first, with the highest q). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  let openMetrics = 0;
  let text = 0;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const q = Number(params.find((p) => p.startsWith('q='))?.slice(2) ?? '1');
    const weight = Number.isFinite(q) ? q : 0;
    if (type === 'application/openmetrics-text') openMetrics = Math.max(openMetrics, weight);
    else if (type === 'text/plain' || type === '*/*' || type === 'text/*') text = Math.max(text, weight);
  }
  return openMetrics > 0 && openMetrics >= text;
}

/** A label value as the exposition formats escape it: backslash, double quote, newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** For a terminal: text.ts's escapes (which write `\\` and `\n` as the formats do), and `\"`. */
function terminalLabelValue(value: string): string {
  return escapeText(value).replace(/"/g, '\\"');
}

export interface ExpositionOptions {
  /** Written to a terminal: escape every control character of names. */
  terminal?: boolean;
}

type Labels = Array<[string, string]>;
interface Family {
  name: string;
  help: string;
  unit?: string;
  samples: Array<[Labels, number]>;
}

/** The whole exposition of `reading`. */
export function renderExposition(reading: MetricsReading, format: ExpositionFormat, options: ExpositionOptions = {}): string {
  const families = reading.per === 'command' ? commandFamilies(reading.commands) : processFamilies(reading.processes);
  families.push(
    { name: 'fdscan_scrape_duration_seconds', unit: 'seconds', help: 'Time fdscan took to read the selected processes.', samples: [[[], reading.durationSeconds]] },
    { name: 'fdscan_processes_unreadable', help: 'Selected processes fdscan could not read in full (permission denied); what every user may read of them is still shown.', samples: [[[], reading.unreadable]] },
    { name: 'fdscan_processes_skipped', help: 'Selected processes left unread because the reading reached its time limit.', samples: [[[], reading.skipped]] },
  );
  const label = options.terminal ? terminalLabelValue : escapeLabelValue;
  const lines: string[] = [];
  for (const family of families) {
    if (family.samples.length === 0) continue;
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} gauge`);
    if (format === 'openmetrics' && family.unit) lines.push(`# UNIT ${family.name} ${family.unit}`);
    for (const [labels, value] of family.samples) {
      const set = labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${label(v)}"`).join(',')}}`;
      lines.push(`${family.name}${set} ${formatValue(value)}`);
    }
  }
  if (format === 'openmetrics') lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

/** Integers as they are, +Inf for an unlimited limit, fractions without exponent noise. */
function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(9)));
}

function processFamilies(processes: ProcessReading[]): Family[] {
  const id = (p: ProcessReading): Labels => [['pid', String(p.pid)], ['command', p.command], ['user', p.user]];
  return [
    { name: 'fdscan_process_open_fds', help: 'Open file descriptors of the process.', samples: processes.map((p) => [id(p), p.open]) },
    {
      name: 'fdscan_process_max_fds',
      help: 'Soft limit of open file descriptors of the process (RLIMIT_NOFILE); +Inf when unlimited.',
      samples: processes.flatMap((p): Array<[Labels, number]> => (p.limits ? [[id(p), p.limits.soft ?? Infinity]] : [])),
    },
    {
      name: 'fdscan_process_inheritable_fds',
      help: 'Descriptors of the process that a program it starts by exec would inherit (close-on-exec clear).',
      samples: processes.flatMap((p): Array<[Labels, number]> => (p.inheritable !== undefined ? [[id(p), p.inheritable]] : [])),
    },
    {
      name: 'fdscan_process_open_fds_by_type',
      help: 'Open file descriptors of the process by type (REG, DIR, FIFO, CHR, SOCK, eventfd, ...).',
      samples: processes.flatMap((p) => byType(id(p), p.byType)),
    },
  ];
}

function commandFamilies(commands: CommandReading[]): Family[] {
  const id = (c: CommandReading): Labels => [['command', c.command], ['user', c.user]];
  return [
    { name: 'fdscan_command_processes', help: 'Processes of the command and user.', samples: commands.map((c) => [id(c), c.processes]) },
    { name: 'fdscan_command_open_fds', help: 'Open file descriptors of the processes of the command and user, summed.', samples: commands.map((c) => [id(c), c.open]) },
    {
      name: 'fdscan_command_worst_usage_ratio',
      help: 'The highest share of its soft descriptor limit that one process of the command and user holds (1 is the limit).',
      samples: commands.flatMap((c): Array<[Labels, number]> => (c.worstUsage !== undefined ? [[id(c), c.worstUsage]] : [])),
    },
    {
      name: 'fdscan_command_inheritable_fds',
      help: 'Inheritable descriptors (close-on-exec clear) of the processes of the command and user, summed.',
      samples: commands.flatMap((c): Array<[Labels, number]> => (c.inheritable !== undefined ? [[id(c), c.inheritable]] : [])),
    },
    {
      name: 'fdscan_command_open_fds_by_type',
      help: 'Open file descriptors of the processes of the command and user by type, summed.',
      samples: commands.flatMap((c) => byType(id(c), c.byType)),
    },
  ];
}

function byType(labels: Labels, counts: Record<string, number> | undefined): Array<[Labels, number]> {
  if (!counts) return [];
  return Object.keys(counts).sort().map((type) => [[...labels, ['type', type]], counts[type]!]);
}
