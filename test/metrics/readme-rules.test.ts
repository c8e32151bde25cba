/**
 * The Prometheus examples of docs/serve.md are what they claim: the scrape config and the alert rules pass
 * promtool's checks, and the rules fire on the series they are meant for and on no others
 * (`promtool test rules`). Skipped visibly without promtool.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/fixture.js';
import { withTempDir } from '../helpers/temp-dir.js';

const missing = spawnSync('promtool', ['--version']).status !== 0 ? 'promtool not installed (apt-get install prometheus)' : undefined;
const yamlBlocks = [...readFileSync(join(repoRoot, 'docs', 'serve.md'), 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
const scrapeConfig = yamlBlocks.find((b) => b.includes('scrape_configs:'));
const rules = yamlBlocks.find((b) => b.includes('groups:') && b.includes('fdscan_process_open_fds'));

test('docs/serve.md has a scrape config and the alert rules', (t) => {
  t.truthy(scrapeConfig);
  t.truthy(rules);
  t.regex(rules!, /alert: DescriptorsNearLimit/);
  t.regex(rules!, /alert: DescriptorsGrowing/);
});

/** One series of the tests, as fdscan serve would label it. */
const series = (name: string, pid: number, command: string, values: string): string =>
  `      - series: '${name}{pid="${pid}",command="${command}",user="root",instance="web1:9256",job="fdscan"}'\n        values: '${values}'`;
const labels = (pid: number, command: string): string =>
  `{severity: warning, pid: "${pid}", command: ${command}, user: root, instance: "web1:9256", job: fdscan}`;

(missing ? test.skip : test)(`promtool: the scrape config and the rules check, and the rules fire on the right series only${missing ? ` (skipped: ${missing})` : ''}`, async (t) => {
  await withTempDir('fdscan-rules', (dir) => {
    writeFileSync(join(dir, 'rules.yml'), rules!);
    writeFileSync(join(dir, 'prometheus.yml'), `${scrapeConfig!}rule_files: [rules.yml]\n`);
    const config = spawnSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' });
    t.is(config.status, 0, config.stdout + config.stderr);
    const checked = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yml')], { encoding: 'utf8' });
    t.is(checked.status, 0, checked.stdout + checked.stderr);
    writeFileSync(join(dir, 'test.yml'), [
      'rule_files: [rules.yml]',
      'evaluation_interval: 1m',
      'tests:',
      '  - interval: 1m',
      '    input_series:',
      // near: 45 of 50 all along; calm: 10 of 50; leaky: 20 more each minute, far from its limit.
      series('fdscan_process_open_fds', 1, 'near', '45x20'),
      series('fdscan_process_max_fds', 1, 'near', '50x20'),
      series('fdscan_process_open_fds', 2, 'calm', '10x20'),
      series('fdscan_process_max_fds', 2, 'calm', '50x20'),
      series('fdscan_process_open_fds', 3, 'leaky', '0+20x20'),
      series('fdscan_process_max_fds', 3, 'leaky', '100000x20'),
      '    alert_rule_test:',
      '      - eval_time: 3m',
      '        alertname: DescriptorsNearLimit',
      '        exp_alerts: []',
      '      - eval_time: 10m',
      '        alertname: DescriptorsNearLimit',
      '        exp_alerts:',
      `          - exp_labels: ${labels(1, 'near')}`,
      '            exp_annotations: {summary: "near (pid 1) on web1:9256 holds 90% of its descriptor limit"}',
      '      - eval_time: 10m',
      '        alertname: DescriptorsGrowing',
      '        exp_alerts:',
      `          - exp_labels: ${labels(3, 'leaky')}`,
      '            exp_annotations: {summary: "leaky (pid 3) on web1:9256 opened 200 more descriptors in 10 minutes than it closed"}',
      '',
    ].join('\n'));
    const run = spawnSync('promtool', ['test', 'rules', join(dir, 'test.yml')], { encoding: 'utf8', cwd: dir });
    t.is(run.status, 0, run.stdout + run.stderr);
  });
});
