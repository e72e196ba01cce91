import { createServer as createHttpServer } from 'node:http';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { sendFile, serveFolder } from '../scripts/serve-folder.js';
import { defaultModelDir } from '../node/model-files.js';
import { datasetsDir, repoRoot } from './paths.js';

/** Debian's Chromium (`.ci/run` installs it); never a browser downloaded by playwright. */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

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

/** A Vite dev server over the repository: the SDK from source, the model folders (fetch-model) and the datasets. */
export async function startPageServer(options: { crossOriginIsolated?: boolean } = {}): Promise<{ url: string; server: ViteDevServer }> {
  // The headers that make a page cross-origin isolated, which lets tfjs run WASM with threads.
  const isolation = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
  const server = await createServer({
    root: repoRoot,
    configFile: false,
    logLevel: 'error',
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, ...(options.crossOriginIsolated ? { headers: isolation } : {}) },
    plugins: [serveFolder('/datasets', datasetsDir), serveFolder('/models', defaultModelDir())],
    optimizeDeps: { include: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-converter', '@tensorflow-models/mobilenet', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs-backend-cpu', 'idb-keyval', 'jpeg-js', 'fast-png', 'image-size'] },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') throw new Error('The page server has no port.');
  return { url: `http://127.0.0.1:${address.port}`, server };
}

/**
 * Headless Debian Chromium; `webgpu: false` leaves WebGPU off, as on most machines without a GPU, and
 * `fakeCamera` gives pages Chromium's built-in test camera (a moving test pattern) without a permission prompt.
 */
export async function launchBrowser(options: { webgpu?: boolean; fakeCamera?: boolean } = {}): Promise<Browser> {
  let args = options.webgpu === false ? CHROMIUM_ARGS.filter((a) => !/webgpu|swiftshader|Vulkan/i.test(a)) : CHROMIUM_ARGS;
  if (options.fakeCamera) args = [...args, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}

/** A browser whose profile (IndexedDB, caches) lives in `profileDir` and survives a restart. */
export async function launchPersistent(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** Opens the test page and waits until the SDK is on `window.sdk`. */
export async function openTestPage(context: Browser | BrowserContext, baseUrl: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  await page.goto(`${baseUrl}/test/browser/page.html`);
  await page.waitForFunction(() => window.sdkReady === true, undefined, { timeout: 120_000 });
  return page;
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
