import { createServer as createHttpServer } from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import { createServer, type Plugin, type ViteDevServer } from 'vite';
import { sendFile, serveFolder } from '../scripts/serve-folder.js';
import { defaultModelDir } from '../node/model-files.js';
import { EXECUTABLES, type EngineBrowser, type EnginePage } from './engines.js';
import { chromiumArgs } from './engines/chromium.js';
import { datasetsDir, repoRoot } from './paths.js';

/** Records every request's path and query, so tests can see what a page fetched in any engine. */
function recordRequests(requests: string[]): Plugin {
  return {
    name: 'fewshot-record-requests',
    configureServer(server) {
      server.middlewares.use((req, _res, next) => {
        requests.push(req.url ?? '');
        next();
      });
    },
  };
}

/** A Vite dev server over the repository: the SDK from source, the model folders (fetch-model) and the datasets. */
export async function startPageServer(options: { crossOriginIsolated?: boolean } = {}): Promise<{ url: string; server: ViteDevServer; requests: string[] }> {
  // The headers that make a page cross-origin isolated, which lets tfjs run WASM with threads.
  const isolation = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
  const requests: string[] = [];
  const server = await createServer({
    root: repoRoot,
    configFile: false,
    logLevel: 'error',
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, ...(options.crossOriginIsolated ? { headers: isolation } : {}) },
    plugins: [recordRequests(requests), serveFolder('/datasets', datasetsDir), serveFolder('/models', defaultModelDir())],
    optimizeDeps: { include: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-converter', '@tensorflow-models/mobilenet', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-cpu', 'flatbuffers', 'idb-keyval', 'jpeg-js', 'fast-png', 'image-size'] },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('The page server has no port.');
  return { url: `http://127.0.0.1:${address.port}`, server, requests };
}

/**
 * Headless Debian Chromium through Playwright's own API, for the tests that need it (the demo's file inputs,
 * the bundle test); `webgpu: false` leaves WebGPU off, as on most machines without a GPU, and `fakeCamera`
 * gives pages Chromium's built-in test camera (a moving test pattern) without a permission prompt.
 */
export async function launchBrowser(options: { webgpu?: boolean; fakeCamera?: boolean } = {}): Promise<Browser> {
  const args = chromiumArgs(options);
  if (options.fakeCamera) args.push('--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream');
  return chromium.launch({ executablePath: EXECUTABLES.chromium, headless: true, args });
}

/** Opens the test page (test/browser/page.html) and waits until the SDK is on `window.sdk`. */
export async function openTestPage(browser: EngineBrowser, baseUrl: string): Promise<EnginePage> {
  const page = await browser.newPage(`${baseUrl}/test/browser/page.html`);
  await waitForSdk(page);
  return page;
}

/** Waits until the test page's module has run, e.g. after `page.reload()`. */
export function waitForSdk(page: EnginePage): Promise<void> {
  return page.waitFor(() => window.sdkReady === true, 120_000);
}

/** tfjs's WASM binaries as the dev server serves them. */
export const WASM_PATHS = '/node_modules/@tensorflow/tfjs-backend-wasm/dist/';

/**
 * A plain static file server on its own port: the "model server" the offline test stops, and a foreign
 * origin for cross-origin images. With `cors`, any page may read its files; without, images it serves taint
 * a canvas.
 */
export async function startStaticServer(dir: string, options: { cors: boolean }): Promise<{ url: string; close(): Promise<void> }> {
  const server = createHttpServer((req, res) => {
    if (sendFile(dir, req.url ?? '/', res, options.cors ? { 'access-control-allow-origin': '*' } : {}) === undefined) {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('The static server has no port.');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
