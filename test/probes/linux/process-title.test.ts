/**
 * A process that sets its title over its argv's memory, as redis, nginx and postgres do: the rest
 * of that memory is NULs, which /proc/PID/cmdline gives as empty arguments after the title. The
 * audit's argv is the title alone, and the header line does not end in spaces.
 */
import test from 'ava';
import { listDescriptors } from '../../../src/index.js';
import { runCli } from '../../helpers/cli.js';
import { startFixture } from '../../helpers/fixture.js';

const linux = process.platform === 'linux' ? test : test.skip;
const TITLE = 'redis-server *:6379';

linux('a title padded with NULs (setproctitle) is its argv, without empty arguments or trailing spaces', async (t) => {
  const fixture = await startFixture<{ pid: number; cmdline: string }>('set-title.py', [TITLE]);
  try {
    t.true(fixture.manifest.cmdline.startsWith(`${TITLE}\0\0`), 'the kernel gives the padding as empty arguments');
    t.deepEqual(listDescriptors(fixture.pid).argv, [TITLE]);
    const json = runCli([String(fixture.pid), '--json']);
    t.deepEqual((JSON.parse(json.stdout) as { argv: string[] }).argv, [TITLE]);
    const text = runCli([String(fixture.pid)]);
    t.is(text.code, 0, text.stderr);
    const header = text.stdout.split('\n')[0]!;
    t.true(header.startsWith(`pid ${fixture.pid} `), header);
    t.true(header.endsWith(`  ${TITLE}`), header);
  } finally {
    await fixture.stop();
  }
});
