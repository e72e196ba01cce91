// Chromium through playwright-core (CDP): Debian's build, never one playwright downloads.
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { EngineBrowser } from '../engines.js';
import { enginePage } from './page.js';
import { withTimeout } from './process.js';

/** Flags for a headless Chromium on a closed network (see the env notes); WebGPU through SwiftShader. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--use-webgpu-adapter=swiftshader',
];

/** The flags above; without the WebGPU/SwiftShader ones when `webgpu` is false. */
export function chromiumArgs(options: { webgpu?: boolean } = {}): string[] {
  return options.webgpu === false ? CHROMIUM_ARGS.filter((a) => !/webgpu|swiftshader|Vulkan/i.test(a)) : [...CHROMIUM_ARGS];
}

const LAUNCH_MS = 60_000;
const CLOSE_MS = 20_000;

function wrapPage(page: Page) {
  const lines: string[] = [];
  page.on('console', (m) => lines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (err) => lines.push(`pageerror: ${err.message}`));
  return enginePage('chromium', {
    evaluate: (expression) => page.evaluate(expression),
    goto: async (url) => void (await page.goto(url)),
    reload: async () => void (await page.reload()),
    logs: () => lines,
    close: () => page.close(),
  });
}

export async function launchChromium(executablePath: string, options: { webgpu?: boolean; profileDir?: string }): Promise<EngineBrowser> {
  const args = chromiumArgs(options);
  // One context for every page, so pages share storage as the tabs of one profile do.
  let context: BrowserContext;
  let version: string;
  let closeBrowser: () => Promise<void>;
  if (options.profileDir) {
    context = await chromium.launchPersistentContext(options.profileDir, { executablePath, headless: true, args, timeout: LAUNCH_MS });
    closeBrowser = () => context.close();
    try {
      // A persistent context has no Browser object to ask; its first tab can.
      version = (await context.pages()[0]!.evaluate(() => navigator.userAgent)).match(/Chrome\/([\d.]+)/)?.[1] ?? 'unknown';
    } catch (err) {
      await closeBrowser();
      throw err;
    }
  } else {
    const browser = await chromium.launch({ executablePath, headless: true, args, timeout: LAUNCH_MS });
    version = browser.version();
    closeBrowser = () => browser.close();
    try {
      context = await browser.newContext();
    } catch (err) {
      await closeBrowser();
      throw err;
    }
  }
  return {
    engine: 'chromium',
    version,
    async newPage(url) {
      const page = wrapPage(await context.newPage());
      await page.goto(url);
      return page;
    },
    // If this times out, Playwright still SIGKILLs the browser's process group when Node exits.
    close: () => withTimeout(closeBrowser(), CLOSE_MS, 'chromium: closing the browser'),
  };
}
