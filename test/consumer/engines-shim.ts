/**
 * TEMPORARY stand-in for test/engines.ts (being written in parallel): the same interface, Chromium only,
 * through playwright-core and Debian's Chromium. Delete once test/engines.ts lands and import from there.
 */
import { chromium, type ConsoleMessage } from 'playwright-core';
import { CHROMIUM } from '../browser-harness.js';

export type EngineName = 'chromium' | 'firefox' | 'webkit';
export const ENGINES: readonly EngineName[] = ['chromium'];

export interface EnginePage {
  readonly engine: EngineName;
  evaluate<A, R>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  waitFor(fn: () => boolean, timeoutMs?: number): Promise<void>;
  goto(url: string): Promise<void>;
  reload(): Promise<void>;
  logs(): string[];
  close(): Promise<void>;
}

export interface EngineBrowser {
  readonly engine: EngineName;
  newPage(url: string): Promise<EnginePage>;
  close(): Promise<void>;
}

export async function launchEngine(engine: EngineName, options: { webgpu?: boolean } = {}): Promise<EngineBrowser> {
  if (engine !== 'chromium') throw new Error(`The temporary engine shim runs Chromium only, not ${engine}.`);
  const args = ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  if (options.webgpu) args.push('--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader', '--use-webgpu-adapter=swiftshader');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
  return {
    engine,
    async newPage(url) {
      const page = await browser.newPage();
      const lines: string[] = [];
      page.on('console', (m: ConsoleMessage) => lines.push(`[${m.type()}] ${m.text()}`));
      page.on('pageerror', (e) => lines.push(`[pageerror] ${e.message}`));
      page.on('worker', (w) => w.on('console', (m: ConsoleMessage) => lines.push(`[worker ${m.type()}] ${m.text()}`)));
      await page.addInitScript('globalThis.__name = (fn) => fn;'); // esbuild keepNames in evaluate callbacks
      await page.goto(url);
      return {
        engine,
        evaluate: <A, R>(fn: (arg: A) => R | Promise<R>, arg: A) => page.evaluate(fn as (a: A) => Promise<R>, arg) as Promise<R>,
        waitFor: async (fn, timeoutMs = 60_000) => void (await page.waitForFunction(fn, undefined, { timeout: timeoutMs })),
        goto: async (u) => void (await page.goto(u)),
        reload: async () => void (await page.reload()),
        logs: () => [...lines],
        close: () => page.close(),
      };
    },
    close: () => browser.close(),
  };
}
