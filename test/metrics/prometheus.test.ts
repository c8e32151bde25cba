/**
 * A real Prometheus (Debian's `prometheus` package; .ci/run installs it) scrapes `fdscan serve` on
 * loopback, and its HTTP query API returns what /proc says of a fixture, names exact. Prometheus
 * runs as a plain child process with this test's own configuration, a free loopback port and
 * storage in a temporary folder, and is stopped at the end whatever happens. Skipped visibly when
 * prometheus is not installed.
 */
import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { withTempDir } from '../helpers/temp-dir.js';
import { fixtureOwner } from '../helpers/fixture.js';
import { startNearLimit } from '../helpers/near-limit.js';
import { procTruth } from '../helpers/proc-truth.js';
import { DIES_WITH_PARENT, request, startServe } from '../helpers/serve.js';

const missing = process.platform !== 'linux' ? 'Linux only'
  : spawnSync('prometheus', ['--version']).status !== 0 ? 'prometheus not installed (apt-get install prometheus)' : undefined;


/** A loopback port free right now (Prometheus is given it; a lost race is retried). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Prometheus {
  base: string;
  child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

/** Start Prometheus on a free loopback port; resolves once its API answers. */
async function startPrometheus(dir: string, target: string): Promise<Prometheus> {
  const config = join(dir, 'prometheus.yml');
  writeFileSync(config, [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    '  - job_name: fdscan',
    '    static_configs:',
    `      - targets: ['${target}']`,
    '',
  ].join('\n'));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    // Stopped by stop() below; and if this test's process dies first, by SIGTERM from the kernel.
    const [command, ...args] = [...DIES_WITH_PARENT, 'prometheus'];
    const child = spawn(command!, [...args,
      `--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
    ], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
    let log = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { log += chunk; });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const prometheus: Prometheus = {
      base: `http://127.0.0.1:${port}`,
      child,
      log: () => log,
      async stop() {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited.finally(() => clearTimeout(timer));
      },
    };
    for (let i = 0; i < 120 && child.exitCode === null; i++) {
      try {
        if ((await request(`${prometheus.base}/-/ready`, {}, 5000)).status === 200) return prometheus;
      } catch { /* not listening yet */ }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await prometheus.stop();
    if (attempt === 3 || !/address already in use/.test(log)) throw new Error(`prometheus did not start: ${log.slice(-2000)}`);
  }
}

interface QueryAnswer {
  status: string;
  data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

/** The instant vector of `query`, waiting until it has a sample (Prometheus scrapes every second). */
async function query(prometheus: Prometheus, expression: string): Promise<QueryAnswer['data']['result']> {
  for (let i = 0; i < 120; i++) {
    const answer = await request(`${prometheus.base}/api/v1/query?query=${encodeURIComponent(expression)}`, {}, 10_000);
    const parsed = JSON.parse(answer.body) as QueryAnswer;
    if (parsed.status === 'success' && parsed.data.result.length > 0) return parsed.data.result;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no sample of ${expression} within a minute`);
}

(missing ? test.skip : test)(`a real Prometheus scrapes fdscan serve on loopback and its query API returns the fixture's true count${missing ? ` (skipped: ${missing})` : ''}`, async (t) => {
  // The name holds a quote, a backslash, a newline and an escape: Prometheus must store it exactly.
  const name = `fdp${randomBytes(2).toString('hex')}"\\\n\x1b`;
  const fixture = await startNearLimit(50, 45, name);
  const serve = await startServe(['-c', '^fdp']);
  let prometheus: Prometheus | undefined;
  try {
    await withTempDir('fdscan-prometheus', async (dir) => {
      prometheus = await startPrometheus(dir, new URL(serve.base).host);
      try {
        const truth = procTruth(fixture.pid);
        t.is(truth.comm, name);
        const open = await query(prometheus, `fdscan_process_open_fds{pid="${fixture.pid}"}`);
        t.is(open.length, 1);
        t.is(Number(open[0]!.value[1]), truth.open);
        t.is(Number(open[0]!.value[1]), 45);
        t.deepEqual(open[0]!.metric, {
          __name__: 'fdscan_process_open_fds', pid: String(fixture.pid), command: name, user: fixtureOwner.username, job: 'fdscan', instance: new URL(serve.base).host,
        });
        const max = await query(prometheus, `fdscan_process_max_fds{pid="${fixture.pid}"}`);
        t.is(Number(max[0]!.value[1]), 50);
        // The first alert rule of docs/serve.md, as Prometheus evaluates it: it fires for the fixture.
        // Other processes of the machine may match -c too (another test suite's fixtures): only
        // the fixture's series is judged, found by its pid.
        const usage = await query(prometheus, `fdscan_process_open_fds / fdscan_process_max_fds > 0.8`);
        const fixtureUsage = usage.filter((s) => s.metric.pid === String(fixture.pid));
        t.is(fixtureUsage.length, 1);
        t.is(Number(fixtureUsage[0]!.value[1]), 0.9);
        const inheritable = await query(prometheus, `fdscan_process_inheritable_fds{pid="${fixture.pid}"}`);
        t.is(Number(inheritable[0]!.value[1]), truth.inheritable);
        const up = await query(prometheus, 'up{job="fdscan"}');
        t.is(up[0]!.value[1], '1', 'the scrapes succeed');
        const targets = JSON.parse((await request(`${prometheus.base}/api/v1/targets`)).body) as { data: { activeTargets: Array<{ health: string; lastError: string }> } };
        t.deepEqual(targets.data.activeTargets.map((x) => [x.health, x.lastError]), [['up', '']]);
      } finally {
        await prometheus!.stop();
      }
    });
  } finally {
    await prometheus?.stop();
    const exit = await serve.stop();
    await fixture.stop();
    t.is(exit.code, 0);
  }
});
