/**
 * `fdscan serve` over real HTTP on loopback: formats by Accept header, the other paths, bad
 * addresses and a port in use, SIGTERM, the time limit, bounded concurrency, and scrapes while a
 * process churns through descriptors. Timings are never asserted: a fetch's guard only stops a hang.
 */
import test from 'ava';
import { createServer, type AddressInfo } from 'node:net';
import { runCli } from '../helpers/cli.js';
import { startFixture } from '../helpers/fixture.js';
import { parseExposition, samplesOf, valueOf } from '../helpers/exposition.js';
import { startNearLimit } from '../helpers/near-limit.js';
import { procTruth } from '../helpers/proc-truth.js';
import { PROMETHEUS_ACCEPT, request, startServe } from '../helpers/serve.js';

const linux = process.platform === 'linux' ? test.serial : test.skip;

linux('GET /metrics: OpenMetrics when Prometheus asks for it, else the 0.0.4 text; /, HEAD, 404 and 405', async (t) => {
  const fixture = await startNearLimit(50, 45);
  const serve = await startServe([String(fixture.pid), '--by-type']);
  try {
    const open = await request(`${serve.base}/metrics`, { headers: { Accept: PROMETHEUS_ACCEPT } });
    t.is(open.status, 200);
    t.is(open.type, 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    t.true(open.body.endsWith('\n# EOF\n'));
    const parsed = parseExposition(open.body);
    const truth = procTruth(fixture.pid);
    const id = { pid: String(fixture.pid) };
    t.is(valueOf(parsed, 'fdscan_process_open_fds', id), truth.open);
    t.is(valueOf(parsed, 'fdscan_process_max_fds', id), 50);
    t.is(valueOf(parsed, 'fdscan_process_inheritable_fds', id), truth.inheritable);
    t.deepEqual(Object.fromEntries(samplesOf(parsed, 'fdscan_process_open_fds_by_type', id).map((s) => [s.labels.type, s.value])), truth.byType);

    const plain = await request(`${serve.base}/metrics`);
    t.is(plain.status, 200);
    t.is(plain.type, 'text/plain; version=0.0.4; charset=utf-8');
    t.false(plain.body.includes('# EOF'));
    t.is(valueOf(parseExposition(plain.body), 'fdscan_process_open_fds', id), truth.open);

    const head = await request(`${serve.base}/metrics?x=1`, { method: 'HEAD' });
    t.is(head.status, 200);
    t.is(head.body, '');
    const index = await request(`${serve.base}/`);
    t.is(index.status, 200);
    t.regex(index.type, /^text\/html/);
    t.regex(index.body, /href="\/metrics"/);
    t.is((await request(`${serve.base}/nope`)).status, 404);
    const post = await request(`${serve.base}/metrics`, { method: 'POST', body: 'x' });
    t.is(post.status, 405);
    t.is(post.headers.get('allow'), 'GET, HEAD');
  } finally {
    const exit = await serve.stop();
    await fixture.stop();
    t.deepEqual(exit, { code: 0, signal: null }, 'SIGTERM stops it cleanly');
    t.is(serve.stderr(), `fdscan serve: listening on ${serve.base}/metrics\n`, 'nothing else on stderr');
  }
});

linux('a port in use and bad addresses: one line, exit 2', async (t) => {
  const taken = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => taken.once('listening', resolve));
  try {
    const port = (taken.address() as AddressInfo).port;
    const busy = runCli(['serve', '--listen', `127.0.0.1:${port}`]);
    t.is(busy.code, 2);
    t.is(busy.stderr, `fdscan: cannot listen on 127.0.0.1:${port}: the address is already in use (another fdscan serve or exporter?)\n`);
  } finally {
    taken.close();
  }
  for (const listen of ['nonsense', '127.0.0.1', '127.0.0.1:65536', '::1:9256', '[::1', '256.1.1.1:80', '[zz]:80', ':9256', '127.0.0.1:-1', '127.0.0.1:80x', '']) {
    const result = runCli(['serve', '--listen', listen]);
    t.is(result.code, 2, listen);
    t.is(result.stdout, '');
    t.regex(result.stderr, /^fdscan: [^\n]+\n$/, listen);
  }
  for (const args of [['--time-limit', 'never'], ['--concurrency', '0'], ['-c', '('], ['-u', 'no-such-user-fdscan']]) {
    const result = runCli(['serve', ...args]);
    t.is(result.code, 2, args.join(' '));
    t.regex(result.stderr, /^fdscan: [^\n]+\n$/, args.join(' '));
  }
});

linux('[::1]: IPv6 loopback works when this machine has it', async (t) => {
  let serve;
  try {
    serve = await startServe(['-c', '^init$'], '[::1]:0');
  } catch (error) {
    t.regex(String(error), /cannot listen on \[::1\]:0/, 'the only acceptable failure: no IPv6 here');
    return;
  }
  try {
    t.regex(serve.base, /^http:\/\/\[::1\]:\d+$/);
    t.is((await request(`${serve.base}/metrics`)).status, 200);
  } finally {
    t.is((await serve.stop()).code, 0);
  }
});

linux('the time limit: what is not read by then is counted as skipped, from --time-limit or the scraper\'s announced timeout', async (t) => {
  const big = await startNearLimit(16000, 15000);
  const small = await startNearLimit(64, 10);
  try {
    for (const [args, headers] of [[['--time-limit', '1ms'], {}], [[], { 'X-Prometheus-Scrape-Timeout-Seconds': '0.001' }]] as const) {
      const serve = await startServe([String(big.pid), '--by-type', ...args]);
      try {
        const answer = await request(`${serve.base}/metrics`, { headers });
        t.is(answer.status, 200);
        const parsed = parseExposition(answer.body);
        t.is(valueOf(parsed, 'fdscan_processes_skipped'), 1);
        t.deepEqual(samplesOf(parsed, 'fdscan_process_open_fds'), []);
      } finally {
        t.is((await serve.stop()).code, 0);
      }
    }
    // Within the limit, the same server reads everything.
    const serve = await startServe([String(big.pid), String(small.pid), '--by-type', '--time-limit', '60s']);
    try {
      const parsed = parseExposition((await request(`${serve.base}/metrics`)).body);
      t.is(valueOf(parsed, 'fdscan_processes_skipped'), 0);
      t.is(valueOf(parsed, 'fdscan_process_open_fds', { pid: String(big.pid) }), 15000);
      t.is(valueOf(parsed, 'fdscan_process_open_fds', { pid: String(small.pid) }), 10);
    } finally {
      t.is((await serve.stop()).code, 0);
    }
  } finally {
    await big.stop();
    await small.stop();
  }
});

linux('bounded concurrency: beyond one reading and four waiting, a scrape is answered 503 at once; the rest are whole', async (t) => {
  const big = await startNearLimit(16000, 15000);
  const serve = await startServe([String(big.pid), '--by-type', '--concurrency', '1', '--time-limit', '60s']);
  try {
    const answers = await Promise.all(Array.from({ length: 12 }, () => request(`${serve.base}/metrics`)));
    const statuses = answers.map((a) => a.status);
    t.log(statuses.join(' '));
    t.true(statuses.every((s) => s === 200 || s === 503), statuses.join(' '));
    t.true(statuses.includes(503), 'some were turned away');
    t.true(statuses.filter((s) => s === 200).length <= 5, 'at most one reading and four waiting');
    for (const a of answers) {
      if (a.status === 503) {
        t.is(a.headers.get('retry-after'), '1');
        t.regex(a.body, /^busy: /);
      } else {
        t.is(valueOf(parseExposition(a.body), 'fdscan_process_open_fds', { pid: String(big.pid) }), 15000);
      }
    }
    t.is((await request(`${serve.base}/metrics`)).status, 200, 'a later scrape is served');
  } finally {
    t.is((await serve.stop()).code, 0);
    await big.stop();
  }
});

linux('scrapes while a process opens and closes thousands of descriptors a second: each answers, whole', async (t) => {
  const churn = await startFixture<{ pid: number; baseline: number[] }>('churn-descriptors.py');
  churn.child.stdin!.write('go\n');
  const serve = await startServe([String(churn.pid), '--by-type', '--time-limit', '3s']);
  try {
    for (let i = 0; i < 10; i++) {
      const answer = await request(`${serve.base}/metrics`, { headers: { Accept: PROMETHEUS_ACCEPT } }, 3000 + 30_000);
      t.is(answer.status, 200);
      const parsed = parseExposition(answer.body);
      t.true(parsed.eof);
      const skipped = valueOf(parsed, 'fdscan_processes_skipped');
      if (skipped === 0) {
        const id = { pid: String(churn.pid) };
        const open = valueOf(parsed, 'fdscan_process_open_fds', id);
        t.true(open >= churn.manifest.baseline.length, `open ${open}`);
        const types = samplesOf(parsed, 'fdscan_process_open_fds_by_type', id).reduce((sum, s) => sum + s.value, 0);
        t.is(types, open, 'the types add up to the count of the same reading');
        t.true(valueOf(parsed, 'fdscan_process_inheritable_fds', id) <= open);
      } else {
        t.is(skipped, 1);
      }
    }
  } finally {
    t.is((await serve.stop()).code, 0);
    await churn.stop();
  }
});

linux('SIGTERM during a reading: the server stops at once, exit 0, the scrape is answered or cut, never left hanging', async (t) => {
  const big = await startNearLimit(16000, 15000);
  const serve = await startServe([String(big.pid), '--by-type', '--time-limit', '60s']);
  try {
    const pending = request(`${serve.base}/metrics`).then((a) => a.status, (error: Error) => error.name);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const exit = await serve.stop();
    t.deepEqual(exit, { code: 0, signal: null });
    const outcome = await pending;
    t.true(outcome === 200 || outcome === 'TypeError', `the scrape: ${outcome}`);
  } finally {
    await serve.stop();
    await big.stop();
  }
});
