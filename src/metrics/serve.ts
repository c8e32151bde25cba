/**
 * `fdscan serve`: an HTTP endpoint Prometheus scrapes. Each `GET /metrics` gets a fresh reading,
 * made in a worker thread (the probe's reads are synchronous) with a time limit, at most
 * `concurrency` readings at once and `queue` scrapes waiting; beyond that a scrape is answered
 * 503 at once. Node's own http; nothing but `/` and `/metrics` is served.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import { FdscanError, deserializeError, errnoOf, type SerializedError } from '../errors.js';
import { CONTENT_TYPES, renderExposition, wantsOpenMetrics } from './exposition.js';
import { errorLine } from '../render/text.js';
import type { MetricsOptions, MetricsReading } from './collect.js';
import { formatListenAddress, type ListenAddress } from './listen-address.js';
import type { ReadingRequest } from './scrape-worker.js';

export interface ServeOptions extends Omit<MetricsOptions, 'deadline'>, ListenAddress {
  /** Longest a reading may take, in ms; a scraper's X-Prometheus-Scrape-Timeout-Seconds shortens it. */
  timeLimitMs: number;
  /** Readings at once (worker threads). */
  concurrency: number;
  /** Scrapes that may wait for a worker; more are answered 503. */
  queue: number;
  /** Where a failed reading is reported, one line each (default: stderr). */
  log?: (line: string) => void;
}

export interface MetricsServer {
  /** `http://HOST:PORT/metrics`, with the port the system chose for port 0. */
  url: string;
  address: ListenAddress;
  /** Stop listening, drop open connections, end the reading threads. */
  close(): Promise<void>;
}

/** A worker that does not answer this long after the deadline is stuck (a read blocked in the kernel): it is replaced. */
const STUCK_GRACE_MS = 1000;
/** How long stopping waits for readings under way before it stops their threads. */
const CLOSE_GRACE_MS = 3000;
/** Answer before the scraper gives up: this share of its announced timeout. */
const SCRAPER_SHARE = 0.9;

/** Listen on `options.host:port`; rejects with a one-line FdscanError when that cannot be done. */
export async function startMetricsServer(options: ServeOptions): Promise<MetricsServer> {
  const { host, port, timeLimitMs, concurrency, queue, log = (line) => process.stderr.write(line), ...metrics } = options;
  const pool = new ReadingPool(metrics, concurrency, queue);
  const server = createServer((request, response) => {
    handle(request, response, pool, timeLimitMs).catch((error: unknown) => {
      log(errorLine(`serve: ${error instanceof Error ? error.message : String(error)}`));
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else response.destroy();
    });
  });
  try {
    await listen(server, host, port);
  } catch (error) {
    await pool.close();
    throw error;
  }
  pool.onFailure = (message) => log(errorLine(`serve: ${message}`));
  const bound = server.address() as AddressInfo;
  const address = { host, port: bound.port };
  return {
    url: `http://${formatListenAddress(address)}/metrics`,
    address,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.close();
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(listenError(error, formatListenAddress({ host, port }))));
    server.listen({ host, port, exclusive: true }, () => resolve());
  });
}

/** Why listening failed, in one line. */
function listenError(error: Error, where: string): FdscanError {
  const code = errnoOf(error);
  const why: Record<string, string> = {
    EADDRINUSE: 'the address is already in use (another fdscan serve or exporter?)',
    EADDRNOTAVAIL: 'no interface of this machine has that address',
    EACCES: 'permission denied (ports below 1024 need privileges)',
    ENOTFOUND: 'no such host',
    EAI_AGAIN: 'the host name could not be resolved now',
    EAFNOSUPPORT: 'this machine does not support that address family',
  };
  return new FdscanError('ELISTEN', `cannot listen on ${where}: ${(code && why[code]) ?? code ?? error.message}`, { cause: error });
}

async function handle(request: IncomingMessage, response: ServerResponse, pool: ReadingPool, timeLimitMs: number): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    send(response, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n');
    return;
  }
  if (path === '/') {
    send(response, 200, 'text/html; charset=utf-8', INDEX_PAGE);
    return;
  }
  if (path !== '/metrics') {
    send(response, 404, 'text/plain; charset=utf-8', 'not found: fdscan serves /metrics\n');
    return;
  }
  const announced = Number(request.headers['x-prometheus-scrape-timeout-seconds']);
  const limit = Number.isFinite(announced) && announced > 0 ? Math.min(timeLimitMs, announced * 1000 * SCRAPER_SHARE) : timeLimitMs;
  const outcome = await pool.read(Date.now() + limit);
  if (typeof outcome === 'string') {
    response.setHeader('Retry-After', '1');
    send(response, 503, 'text/plain; charset=utf-8', `${outcome}\n`);
    return;
  }
  const format = wantsOpenMetrics(request.headers.accept) ? 'openmetrics' : 'prometheus';
  send(response, 200, CONTENT_TYPES[format], renderExposition(outcome, format));
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

const INDEX_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>fdscan</title></head>
<body><h1>fdscan</h1><p>File-descriptor metrics of this machine's processes: <a href="/metrics">/metrics</a>
(Prometheus text format, or OpenMetrics when the Accept header asks for it).</p></body></html>
`;

interface Job {
  deadline: number;
  resolve(outcome: MetricsReading | string): void;
  reject(error: unknown): void;
}

/** Worker threads that make readings: at most `size` at once, `queueLimit` waiting. */
class ReadingPool {
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();
  private readonly waiting: Job[] = [];
  /** Threads at work, each with the promise of its reading's end. */
  private readonly busy = new Map<Worker, Promise<void>>();
  private nextId = 0;
  private closed = false;
  onFailure: (message: string) => void = () => {};

  constructor(private readonly options: Omit<MetricsOptions, 'deadline'>, private readonly size: number, private readonly queueLimit: number) {
    // One thread at once: a thread that cannot start fails the first scrape, not a later one.
    this.idle.push(this.spawn());
  }

  /** A reading made before `deadline`, or the reason there is none (503). Rejects on a failed reading. */
  read(deadline: number): Promise<MetricsReading | string> {
    return new Promise((resolve, reject) => {
      if (this.closed) return resolve('fdscan serve is stopping');
      const job: Job = { deadline, resolve, reject };
      const worker = this.idle.pop() ?? (this.all.size < this.size ? this.spawn() : undefined);
      if (worker) this.run(worker, job);
      else if (this.waiting.length < this.queueLimit) this.waiting.push(job);
      else resolve(`busy: ${this.size} readings under way and ${this.queueLimit} waiting; try again`);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) job.resolve('fdscan serve is stopping');
    // A thread stopped in the middle of a native read can abort the whole process: give readings
    // under way a moment to end (they are bounded by their time limit) before stopping threads.
    const grace = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS));
    await Promise.race([Promise.all(this.busy.values()), grace]);
    await Promise.all([...this.all].map((worker) => worker.terminate()));
    this.all.clear();
    this.idle.length = 0;
  }

  private spawn(): Worker {
    // SHARE_ENV: a copy of process.env aborts Node (KVStore::Clone) on a variable whose name is not UTF-8.
    const worker = new Worker(new URL('./scrape-worker.js', import.meta.url), { workerData: this.options, env: SHARE_ENV });
    // An idle thread must not keep fdscan alive; one at work holds the scrape's promise anyway.
    worker.unref();
    this.all.add(worker);
    return worker;
  }

  private run(worker: Worker, job: Job): void {
    const id = this.nextId++;
    let done = false;
    let ended = (): void => {};
    this.busy.set(worker, new Promise<void>((resolve) => { ended = resolve; }));
    const finish = (healthy: boolean): void => {
      done = true;
      this.busy.delete(worker);
      ended();
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (!healthy) {
        this.all.delete(worker);
        void worker.terminate();
      }
      this.next(healthy ? worker : undefined);
    };
    const onMessage = (message: { id: number; reading?: MetricsReading; error?: SerializedError }): void => {
      if (message.id !== id || done) return;
      finish(true);
      if (message.error) job.reject(deserializeError(message.error));
      else job.resolve(message.reading!);
    };
    const onError = (error: Error): void => {
      if (done) return;
      finish(false);
      job.reject(error);
    };
    const onExit = (code: number): void => onError(new Error(`the reading thread exited (${code})`));
    const timer = setTimeout(() => {
      if (done) return;
      finish(false);
      this.onFailure(`a reading did not end ${STUCK_GRACE_MS} ms past its time limit; its thread was replaced`);
      job.resolve('the reading did not finish within its time limit');
    }, Math.max(0, job.deadline - Date.now()) + STUCK_GRACE_MS);
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage({ id, deadline: job.deadline } satisfies ReadingRequest);
  }

  /** Give a freed worker (or a new one, when the last one was replaced) to the next scrape still in time. */
  private next(worker: Worker | undefined): void {
    if (this.closed) return;
    let job = this.waiting.shift();
    while (job && Date.now() > job.deadline) {
      job.resolve('the time limit passed while waiting for a reading thread');
      job = this.waiting.shift();
    }
    if (!job) {
      if (worker) this.idle.push(worker);
      return;
    }
    this.run(worker ?? this.spawn(), job);
  }
}
