/** `fdscan serve`: a /metrics endpoint for Prometheus, until SIGTERM or Ctrl-C. */
import type { Argv, CommandModule } from 'yargs';
import { heeded } from '../launch/caller-state.js';
import { ENDING_SIGNALS, onSignals } from '../launch/signals.js';
import { UsageError } from '../errors.js';
import { DEFAULT_LISTEN, parseListenAddress } from '../metrics/listen-address.js';
import { startMetricsServer } from '../metrics/serve.js';
import { checkSelection } from '../audit/selection.js';
import { parseDuration, type ArgsOf } from './arguments.js';
import { EXIT_OK } from '../exit-codes.js';
import { metricsOptionsFrom, READING_OPTIONS } from './metrics-options.js';
import { ALL_OPTION, SELECTION_OPTIONS } from './selection-options.js';

const serveBuilder = (yargs: Argv) =>
  yargs
    .positional('pid', { describe: 'Only these processes (default: every process)', type: 'string', array: true })
    .options({
      listen: { type: 'string', default: DEFAULT_LISTEN, requiresArg: true, describe: 'HOST:PORT to listen on ([::1]:9256 for IPv6; port 0: any free port)' },
      ...ALL_OPTION,
      ...SELECTION_OPTIONS,
      ...READING_OPTIONS,
      'time-limit': { type: 'string', default: '10s', requiresArg: true, describe: 'Longest a reading may take; a scraper\'s X-Prometheus-Scrape-Timeout-Seconds shortens it' },
      concurrency: { type: 'number', default: 2, requiresArg: true, describe: 'Readings at once; up to 4 times as many scrapes wait, more are answered 503' },
    })
    .example('$0 serve', 'http://127.0.0.1:9256/metrics, every process')
    .example('$0 serve --listen 0.0.0.0:9256 -u www-data --per command', 'Reachable from other hosts: one series per command of www-data')
    .epilogue('GET /metrics answers a fresh reading per scrape (Prometheus text 0.0.4, or OpenMetrics when the Accept header asks ' +
      'for it); what is not read within the time limit is counted in fdscan_processes_skipped. GET / names the endpoint. ' +
      'SIGTERM, SIGINT and SIGHUP stop it.\n\n' +
      'Exit status: 0 when stopped by a signal; 2 on bad usage or when the address cannot be listened on.');

type ServeArgs = ArgsOf<typeof serveBuilder>;

export const serveCommand: CommandModule<{}, ServeArgs> = {
  command: 'serve [pid..]',
  describe: 'Serve descriptor metrics over HTTP for Prometheus (default 127.0.0.1:9256)',
  builder: serveBuilder,
  handler: (argv) => runServe(argv),
};

async function runServe(argv: ServeArgs): Promise<void> {
  const address = parseListenAddress(argv.listen);
  const timeLimitMs = parseDuration(argv['time-limit'], '--time-limit');
  if (!Number.isInteger(argv.concurrency) || argv.concurrency < 1 || argv.concurrency > 64) throw new UsageError('--concurrency takes a whole number from 1 to 64');
  // A bad pattern or user fails now, not at the first scrape; the threads get a uid.
  const metrics = checkSelection(metricsOptionsFrom(argv));
  // Signals are taken before listening: a SIGTERM that comes while it starts still stops it.
  let stop!: (signal: NodeJS.Signals) => void;
  const stopped = new Promise<NodeJS.Signals>((resolve) => { stop = resolve; });
  const stopListening = onSignals(heeded(ENDING_SIGNALS), stop, { once: true });
  try {
    const server = await startMetricsServer({ ...metrics, ...address, timeLimitMs, concurrency: argv.concurrency, queue: 4 * argv.concurrency });
    process.stderr.write(`fdscan serve: listening on ${server.url}\n`);
    await stopped;
    await server.close();
    process.exitCode = EXIT_OK;
  } finally {
    stopListening();
  }
}
