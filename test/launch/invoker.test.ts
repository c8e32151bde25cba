/** Which ancestor `fdscan` with no pid audits: the user's shell, past npm, npx and sh -c shims. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { isWrapperProcess } from '../../src/launch/invoker.js';
import { repoRoot } from '../helpers/fixture.js';

const info = (command: string, argv: string[]) => ({ pid: 2, ppid: 1, command, argv });

test('npm, npx and the sh -c that runs the bin are wrappers; shells and programs are not', (t) => {
  t.true(isWrapperProcess(info('npm exec', ['npm exec', 'fdscan'])));
  t.true(isWrapperProcess(info('npm exec fdscan', ['npm exec fdscan --no-peers         '])));
  t.false(isWrapperProcess(info('npmd', ['npmd'])));
  t.true(isWrapperProcess(info('node', ['node', '/usr/lib/node_modules/npm/bin/npx-cli.js', 'fdscan'])));
  t.true(isWrapperProcess(info('sh', ['sh', '-c', "'fdscan' --json"])));
  t.true(isWrapperProcess(info('sh', ['sh', '-c', '/work/node_modules/.bin/fdscan 12'])));
  t.false(isWrapperProcess(info('bash', ['bash'])));
  t.false(isWrapperProcess(info('sh', ['sh', '-c', 'make test && fdscan'])));
  t.false(isWrapperProcess(info('node', ['node', 'server.js'])));
});

(process.platform === 'linux' ? test : test.skip)('npx fdscan audits the shell that ran npx', (t) => {
  // The trailing command keeps bash from exec'ing npx in its place: the shell must stay to be found.
  const result = spawnSync('bash', ['-c', 'echo $$; npx --no-install fdscan --json --no-peers; exit $?'], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  t.is(result.status, 0, result.stderr);
  const [shellPid, json] = [result.stdout.slice(0, result.stdout.indexOf('\n')), result.stdout.slice(result.stdout.indexOf('\n') + 1)];
  t.is(JSON.parse(json).pid, Number(shellPid));
});
