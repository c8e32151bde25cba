/** Runs `fdscan serve` on a free loopback port for a test, and stops it whatever happens. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fdscanBin } from './fixture.js';

export interface RunningServe {
  /** `http://127.0.0.1:PORT` (no path). */
  base: string;
  child: ChildProcess;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM, then its exit status (SIGKILL after `graceMs`: a hang fails the test, never the suite). */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `setpriv --pdeathsig TERM`: a server gets SIGTERM if the test's process dies first (an ava timeout). */
export const DIES_WITH_PARENT = process.platform === 'linux' && spawnSync('setpriv', ['--pdeathsig', 'TERM', 'true']).status === 0
  ? ['setpriv', '--pdeathsig', 'TERM'] : [];

/** `fdscan serve --listen 127.0.0.1:0 ARGS`; resolves once it printed where it listens. */
export async function startServe(args: string[], listen = '127.0.0.1:0'): Promise<RunningServe> {
  const [command, ...prefix] = [...DIES_WITH_PARENT, process.execPath];
  const child = spawn(command!, [...prefix, fdscanBin, 'serve', '--listen', listen, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const lines = createInterface({ input: child.stderr! });
  const base = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      stderr += `${line}\n`;
      const match = /^fdscan serve: listening on (http:\/\/\S+)\/metrics$/.exec(line);
      if (match) resolve(match[1]!);
    });
    void exited.then(({ code }) => reject(new Error(`fdscan serve exited (${code}) before listening: ${stderr}`)));
  });
  return {
    base,
    child,
    stderr: () => stderr,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited.finally(() => clearTimeout(timer));
      }
      return exited;
    },
  };
}

export interface Answer {
  status: number;
  type: string;
  body: string;
  headers: Headers;
}

/** GET (or another method) with a generous guard against a hang; never throws on an HTTP status. */
export async function request(url: string, init: RequestInit = {}, guardMs = 60_000): Promise<Answer> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(guardMs) });
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.text(), headers: response.headers };
}

/** The Accept header Prometheus 2.x sends. */
export const PROMETHEUS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
