/**
 * A real headless browser for the HTML pages' tests: Debian's chromium (`apt-get install chromium`,
 * which .ci/run does), driven by playwright-core. Without it the tests using `browserTest` skip
 * visibly, the reason in the title. One browser per test file, launched at first use; call
 * `closeBrowser` from `test.after.always`.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import type { Browser, Page } from 'playwright-core';
import { repoRoot } from './fixture.js';

/** The system browser; FDSCAN_CHROMIUM names another. */
export const chromiumPath = process.env.FDSCAN_CHROMIUM ?? '/usr/bin/chromium';

/** Where the tests leave their screenshots (under dist/, which git ignores). */
export const screenshotDir = join(repoRoot, 'dist', 'test-output', 'pictures');

/** Why there is no browser to test with, or undefined when there is. */
export function browserUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'Linux only (Debian chromium)';
  if (!existsSync(chromiumPath)) return `no browser at ${chromiumPath} (apt-get install chromium)`;
  return undefined;
}

let launched: Promise<Browser> | undefined;

/** The test file's browser, launched once. */
export function browser(): Promise<Browser> {
  launched ??= import('playwright-core').then(({ chromium }) => chromium.launch({
    executablePath: chromiumPath,
    // As root, chromium refuses to start with its sandbox.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  }));
  return launched;
}

/** Close the browser if it was launched. */
export async function closeBrowser(): Promise<void> {
  if (launched) await (await launched).close();
  launched = undefined;
}

/** What a page did while it was open: every dialog (alert, confirm), console message of level error, and uncaught error. */
export interface PageWatch {
  page: Page;
  dialogs: string[];
  consoleErrors: string[];
  pageErrors: string[];
}

/** Open `file` (an HTML file) from file:// in a new page of 1280x800; dialogs are recorded and dismissed. */
export async function openFile(file: string): Promise<PageWatch> {
  const page = await (await browser()).newPage({ viewport: { width: 1280, height: 800 } });
  const watch: PageWatch = { page, dialogs: [], consoleErrors: [], pageErrors: [] };
  page.on('dialog', (dialog) => {
    watch.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    if (message.type() === 'error') watch.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => watch.pageErrors.push(String(error)));
  // The browser's default budget (30 s) for the load event.
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return watch;
}

/** Save a screenshot of `page` as `name`.png in screenshotDir (and return its path). */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: options.fullPage ?? false });
  return path;
}

/** screenshot(), and with FDSCAN_UPDATE_SCREENSHOTS=1 a copy as docs/images/NAME.png, the README's picture. */
export async function readmeScreenshot(page: Page, name: string): Promise<string> {
  const path = await screenshot(page, name);
  if (process.env.FDSCAN_UPDATE_SCREENSHOTS === '1') {
    mkdirSync(join(repoRoot, 'docs', 'images'), { recursive: true });
    copyFileSync(path, join(repoRoot, 'docs', 'images', `${name}.png`));
  }
  return path;
}

/** A test that needs the browser: a visible skip, with the reason in its title, when there is none. */
export function browserTest(title: string, body: (t: ExecutionContext) => Promise<void>): void {
  const reason = browserUnavailable();
  if (reason) test.skip(`${title} (skipped: ${reason})`, () => {});
  else test(title, body);
}
