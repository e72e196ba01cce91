// Firefox ESR through puppeteer-core over WebDriver BiDi.
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { EngineBrowser } from '../engines.js';
import { enginePage } from './page.js';
import { withTimeout } from './process.js';

const LAUNCH_MS = 60_000;
const CLOSE_MS = 20_000;

function wrapPage(page: Page) {
  const lines: string[] = [];
  page.on('console', (m) => lines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (err) => lines.push(`pageerror: ${err instanceof Error ? err.message : String(err)}`));
  return enginePage('firefox', {
    evaluate: (expression) => page.evaluate(expression),
    goto: async (url) => void (await page.goto(url)),
    reload: async () => void (await page.reload()),
    logs: () => lines,
    close: () => page.close(),
  });
}

/** SIGKILLs Firefox's process group (puppeteer starts it detached), for a browser that will not close. */
function kill(browser: Browser): void {
  const pid = browser.process()?.pid;
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export async function launchFirefox(executablePath: string, options: { profileDir?: string }): Promise<EngineBrowser> {
  // puppeteer kills Firefox itself when the launch fails or times out, and when Node exits.
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath,
    headless: true,
    timeout: LAUNCH_MS,
    // Tests bound each step themselves (vitest's timeouts); a model load plus 150 classifications is one call.
    protocolTimeout: 0,
    ...(options.profileDir ? { userDataDir: options.profileDir } : {}),
  });
  let version: string;
  try {
    version = (await browser.version()).replace(/^firefox\//, '');
  } catch (err) {
    kill(browser);
    throw err;
  }
  return {
    engine: 'firefox',
    version,
    async newPage(url) {
      const page = wrapPage(await browser.newPage());
      await page.goto(url);
      return page;
    },
    async close() {
      try {
        await withTimeout(browser.close(), CLOSE_MS, 'firefox: closing the browser');
      } finally {
        kill(browser);
      }
    },
  };
}
