import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './browser-harness.js';
import { caltechDir, repoRoot } from './paths.js';

const ARTIFACTS = join(repoRoot, 'test-artifacts');
/** `count` real Caltech-101 photos of a class, after skipping the first `skip`. */
const photos = (label: string, count: number, skip = 0) =>
  readdirSync(join(caltechDir, label))
    .sort()
    .slice(skip, skip + count)
    .map((file) => join(caltechDir, label, file));

const byTestId = (id: string) => `[data-testid="${id}"]`;
const card = (label: string) => `${byTestId('class-card')}[data-label="${label}"]`;
const texts = (page: Page, selector: string) => page.locator(selector).allTextContents();

async function teach(page: Page, label: string, files: string[]): Promise<void> {
  await page.fill(byTestId('label-input'), label);
  await page.setInputFiles(byTestId('teach-file-input'), files);
  // Learnt once the card shows every example and the status is no longer busy.
  await page.waitForSelector(`${card(label)} >> text=${files.length} examples`, { timeout: 120_000 });
  await page.waitForSelector(`${byTestId('status')}:not([data-kind="busy"])`, { timeout: 120_000 });
}

/** The demo page as a user meets it: Vite's dev server with demo/vite.config.ts, real Chromium, real photos. */
describe('demo page (demo/, served by npm start)', () => {
  let server: ViteDevServer;
  let browser: Browser;
  let baseUrl: string;
  const problems: string[] = [];

  beforeAll(async () => {
    server = await createServer({
      configFile: join(repoRoot, 'demo', 'vite.config.ts'),
      logLevel: 'error',
      // Its own port and pre-bundle cache, so it never clashes with `npm start` run by other tests.
      cacheDir: join(repoRoot, 'node_modules', '.vite-demo-test'),
      server: { port: 0, strictPort: false, hmr: false },
    });
    await server.listen();
    const address = server.httpServer?.address();
    if (!address || typeof address === 'string') throw new Error('The demo server has no port.');
    baseUrl = `http://127.0.0.1:${address.port}`;
    browser = await launchBrowser({ fakeCamera: true });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('learns two classes from photos, classifies a third photo, deletes a class, and keeps classes across reloads', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => msg.type() === 'error' && problems.push(`console error: ${msg.text()}`));
    page.on('response', (res) => res.status() >= 400 && problems.push(`HTTP ${res.status()} for ${res.url()}`));
    const user = `e2e-${Date.now()}`;
    await page.goto(`${baseUrl}/?backend=wasm&user=${user}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });

    expect(await page.textContent(byTestId('backend-badge'))).toBe('wasm');
    expect(await page.textContent(byTestId('model-badge'))).toBe('mobilenet_v2_100');
    expect(await page.inputValue(byTestId('user-input'))).toBe(user);
    expect(await page.isVisible(byTestId('no-classes'))).toBe(true);

    await teach(page, 'accordion', photos('accordion', 3));
    await teach(page, 'brontosaurus', photos('brontosaurus', 3));
    expect(await texts(page, byTestId('class-name'))).toEqual(['accordion', 'brontosaurus']);
    expect(await page.locator(`${card('accordion')} img`).count()).toBe(3);
    expect(await page.isVisible(byTestId('no-classes'))).toBe(false);

    // A photo it has not seen, through the page's "Classify a photo" input.
    await page.setInputFiles(byTestId('classify-file-input'), photos('brontosaurus', 1, 5));
    await page.waitForFunction(() => document.querySelector('[data-testid="prediction-label"]')?.textContent === 'brontosaurus', undefined, { timeout: 60_000 });
    expect(await page.getAttribute(byTestId('prediction'), 'class')).not.toContain('unknown');
    expect(await page.textContent(byTestId('prediction-confidence'))).toMatch(/^\d+%$/);
    expect(await texts(page, `${byTestId('prediction-bars')} .bar-label`)).toEqual(['brontosaurus', 'accordion']);
    // Three examples per class: the confidence is fitted to them (info().calibration.heldOut > 0).
    expect(await page.textContent(byTestId('prediction-hint'))).toMatch(/^similarity \d\.\d\d$/);

    await page.screenshot({ path: join(ARTIFACTS, 'demo.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(ARTIFACTS, 'demo-phone.png'), fullPage: true });

    await page.click(`${card('brontosaurus')} ${byTestId('class-delete')}`);
    await page.waitForSelector(card('brontosaurus'), { state: 'detached' });
    expect(await texts(page, byTestId('class-name'))).toEqual(['accordion']);
    // The photo on show is classified again against what is left.
    await page.waitForFunction(() => document.querySelector('[data-testid="prediction-bars"]')?.children.length === 1);

    // Examples (IndexedDB, via the SDK) and thumbnails (the demo's own) survive a reload.
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    expect(await texts(page, byTestId('class-name'))).toEqual(['accordion']);
    expect(await page.locator(`${card('accordion')} img`).count()).toBe(3);

    // One class left: nothing to fit the confidence on (info().calibration.heldOut is 0), and the page says so.
    await page.setInputFiles(byTestId('classify-file-input'), photos('accordion', 1, 5));
    await page.waitForFunction(() => document.querySelector('[data-testid="prediction-label"]')?.textContent === 'accordion', undefined, { timeout: 60_000 });
    expect(await page.textContent(byTestId('prediction-hint'))).toContain('rough confidence');

    expect(problems).toEqual([]);
  });

  it('teaches a class from webcam frames and predicts it live', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    await page.goto(`${baseUrl}/?backend=wasm&user=cam-${Date.now()}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    await teach(page, 'accordion', photos('accordion', 2));

    // Chromium's fake camera: a test pattern, nothing like an accordion.
    await page.click(byTestId('camera-button'));
    await page.waitForSelector(`${byTestId('camera-add-button')}:not([disabled])`, { timeout: 30_000 });
    await page.fill(byTestId('label-input'), 'test pattern');
    await page.click(byTestId('camera-add-button'));
    await page.waitForSelector(card('test pattern'), { timeout: 60_000 });
    await page.waitForFunction(() => document.querySelector('[data-testid="prediction-label"]')?.textContent === 'test pattern', undefined, { timeout: 60_000 });
    expect(await texts(page, `${byTestId('prediction-bars')} .bar-label`)).toEqual(['test pattern', 'accordion']);
    await page.click(byTestId('camera-button')); // stop
    expect(problems).toEqual([]);
  });
});
