/**
 * Browser plumbing for the e2e browser tests: launches Debian's Chromium (never a downloaded
 * build) headless through playwright-core, collects console errors and CSP violations per page,
 * and saves screenshots under test-output/screenshots/. A missing Chromium is a clear failure,
 * not a skip: CI (.ci/run) installs it.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from '../../local/handlers';

/** Debian's `chromium` package; override with PAYSTEP_CHROMIUM for another local install. */
export const CHROMIUM_PATH = process.env.PAYSTEP_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-output', 'screenshots');

/** Flags for a quiet, reproducible headless run inside containers (no sandbox, no GPU, no network chatter). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--lang=en-US',
];

/**
 * Starts Chromium. Playwright gives every launch a fresh temporary profile (its own
 * `--user-data-dir`, deleted on close), so runs never share cookies or storage.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}. The browser tests need it: run \`apt-get install -y chromium\` ` +
        '(.ci/run does this on CI) or set PAYSTEP_CHROMIUM to a Chromium binary.',
    );
  }
  return await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** Console errors and CSP violations a page reported; the tests expect none. */
export function watchPageErrors(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !/favicon/i.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  return problems;
}

/** Saves a full-page PNG as test-output/screenshots/<name>.png and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true, animations: 'disabled' });
  return path;
}
