import test from 'ava';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { html, openPageFile, scriptJson, writePage, type PageHead } from '../../../src/render/html/page.js';
import { browserTest, closeBrowser, openFile, screenshot } from '../../helpers/browser.js';
import { withTempDir } from '../../helpers/temp-dir.js';

test.after.always(closeBrowser);

// Names someone else chose: markup, a script end, quotes, a comment start, U+2028, a lone
// surrogate (what invalid UTF-8 may leave), an escape sequence, U+FFFD.
const HOSTILE = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(2)>',
  "'><svg onload=alert(3)>",
  '</script><script>alert(4)</script>',
  '<!--<script>',
  'line\u2028sep\u2029para',
  'lone\ud800surrogate',
  'esc\x1b[2Jape',
  'bad\ufffdbyte',
];

test('html escapes every interpolated string, in text and in quoted attributes, and keeps fragments', (t) => {
  for (const name of HOSTILE) {
    const markup = html`<p title="${name}" data-name='${name}'>${name}</p>${html`<b>${name}</b>`}`.markup;
    t.notRegex(markup, /<(script|img|svg)|<\/script|<!--/i, name);
    t.notRegex(markup.replace(/^<p title="[^"]*" data-name='[^']*'>/, ''), /["']/, name);
    t.notRegex(markup, /[\u2028\u2029\ud800\x1b\ufffd]/, name);
  }
  t.is(html`${['a', html`<i>b</i>`, null, undefined, false, 3]}`.markup, 'a<i>b</i>3');
  // Something that only looks like a fragment is not one.
  t.throws(() => html`${{ markup: '<script>' } as never}`, { instanceOf: TypeError });
});

test('scriptJson: no byte of a value can end the script block, and JSON.parse gives the exact strings back', (t) => {
  for (const name of HOSTILE) {
    const json = scriptJson({ name });
    t.notRegex(json, /[<>&\u2028\u2029]/, name);
    t.deepEqual(JSON.parse(json), { name });
  }
});

test('writePage streams: a large body reaches the sink in several pieces of bounded size', (t) => {
  const chunks: string[] = [];
  writePage((c) => chunks.push(c), { title: 'big' }, (page) => {
    for (let i = 0; i < 5000; i++) page.write(html`<div class="p">process ${i} ${'x'.repeat(100)}</div>\n`);
  });
  t.true(chunks.length > 5, `${chunks.length} chunks`);
  t.true(Math.max(...chunks.map((c) => c.length)) < 2 * 64 * 1024);
  const page = chunks.join('');
  t.true(page.startsWith('<!doctype html>'));
  t.true(page.endsWith('</html>\n'));
});

test('the fixed part of a page (head, style, end) is small', (t) => {
  let size = 0;
  writePage((c) => (size += Buffer.byteLength(c)), { title: 'empty', verdict: { status: 'pass', text: 'ok' } }, () => {});
  t.true(size < 300 * 1024, `${size} bytes`);
});

test('openPageFile refuses what a report file refuses (a directory), naming the option', (t) => {
  withTempDir('fdscan-page', (dir) => {
    t.throws(() => openPageFile(dir, '--html'), { message: /cannot write --html .*: a directory/ });
  });
});

// A page whose every part holds hostile names, and a script (allowed by its hash) that reads them
// from the data block and shows them as text.
function hostilePage(file: string): void {
  const head: PageHead = {
    title: `fdscan ${HOSTILE[0]}`,
    verdict: { status: 'fail', text: `leak of ${HOSTILE[1]}` },
    facts: HOSTILE.slice(2, 4),
    scripts: [`
      const names = JSON.parse(document.getElementById('names-data').textContent);
      const list = document.getElementById('from-data');
      for (const name of names) { const li = document.createElement('li'); li.textContent = name; list.append(li); }
      document.body.dataset.ready = String(names.length);
    `],
  };
  openPageFile(file, '--html').write(head, (page) => {
    page.section({ id: 'names', title: HOSTILE[4]!, note: HOSTILE[5]! }, () => {
      page.write(html`<ul id="as-text">${HOSTILE.map((name) => html`<li data-name="${name}" title='${name}'>${name}</li>`)}</ul>`);
    });
    page.write(html`<ul id="from-data"></ul>`);
    page.data('names-data', HOSTILE);
  });
}

browserTest('a page of hostile names runs no script but its own, adds no element and shows each name as text', async (t) => {
  await withTempDir('fdscan-page', async (dir) => {
    const file = join(dir, 'hostile.html');
    hostilePage(file);
    const { page, dialogs, consoleErrors, pageErrors } = await openFile(file);
    try {
      t.deepEqual(dialogs, []);
      t.deepEqual(pageErrors, []);
      // A Content-Security-Policy refusal is a console error: the page's own script and style pass it.
      t.deepEqual(consoleErrors, []);
      t.is(await page.getAttribute('body', 'data-ready'), String(HOSTILE.length), 'the page\'s own script ran');
      t.is(await page.locator('img, svg, iframe, object, embed').count(), 0);
      // The page's own script, and the one data block: nothing else.
      t.is(await page.locator('script').count(), 2);
      t.is(await page.locator('#as-text li').count(), HOSTILE.length);
      const shown = await page.locator('#as-text li').allInnerTexts();
      t.is(shown[0], '<script>alert(1)</script>');
      t.is(shown[1], '"><img src=x onerror=alert(2)>');
      t.is(shown[5], 'line\\u2028sep\\u2029para');
      t.is(shown[6], 'lone\\ud800surrogate');
      t.is(shown[7], 'esc\\x1b[2Jape');
      t.is(await page.locator('#as-text li').first().getAttribute('data-name'), '<script>alert(1)</script>');
      // From the data block the exact strings come back (the lone surrogate as U+FFFD: the file is UTF-8).
      const fromData = await page.locator('#from-data li').allTextContents();
      t.deepEqual(fromData.slice(0, 5), HOSTILE.slice(0, 5));
      t.is(await page.title(), 'fdscan <script>alert(1)</script>');
      t.regex(await page.locator('.verdict').innerText(), /^FAIL leak of "><img/);
      mkdirSync(dir, { recursive: true });
      await screenshot(page, 'page-hostile-names', { fullPage: true });
    } finally {
      await page.close();
    }
  });
});

browserTest('a page is one file: it asks for nothing over the network', async (t) => {
  await withTempDir('fdscan-page', async (dir) => {
    const file = join(dir, 'plain.html');
    hostilePage(file);
    const { page } = await openFile(file);
    try {
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.reload({ waitUntil: 'load' });
      t.deepEqual(requests.filter((u) => !u.startsWith('file://')), []);
      t.true(statSync(file).size > 0);
      t.regex(readFileSync(file, 'utf8'), /http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;sha256-/);
    } finally {
      await page.close();
    }
  });
});
