/**
 * Builds and serves the consumer fixtures with the tools' JS APIs, each with the fixture's own config file:
 * Vite (dev server, build, preview), webpack 5 (production build), and a plain static file server (no
 * transforms, optional COOP/COEP headers) for the webpack output and the page without a bundler.
 */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, createServer, preview } from 'vite';
import webpack, { type Configuration } from 'webpack';
import { sendFile } from '../../scripts/serve-folder.js';
import { withTimeout } from '../engines/process.js';

export interface Served {
  url: string;
  close(): Promise<void>;
}

/** The headers that make a page cross-origin isolated (SharedArrayBuffer, so WASM threads). */
export const ISOLATION_HEADERS = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/** Files under `root` as they are; `/` and folders mean their index.html. */
export async function serveStatic(root: string, headers: Record<string, string> = {}): Promise<Served> {
  const server = createHttpServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/$/, '/index.html');
    if (sendFile(root, path, res, { 'cache-control': 'no-store', ...headers }) === undefined) res.writeHead(404, headers).end('not found');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/**
 * The fixture's own config file; inline only test plumbing: a dependency cache per fixture folder (the
 * default, appDir/node_modules/.vite, is shared by every fixture and process using the installed package).
 */
const viteConfig = (dir: string) => ({ root: dir, configFile: join(dir, 'vite.config.js'), cacheDir: join(dir, '.vite') });

/**
 * `vite` (dev server) in the fixture's folder. Vite finds a worker's dependencies only when the browser first
 * asks for the worker, then re-bundles them and reloads the page; requesting `warm` first and waiting for that
 * re-bundling gives the pages what a second `vite` start would: the dependency cache complete.
 */
export async function viteDev(dir: string, warm: string[] = []): Promise<Served> {
  const server = await createServer({ ...viteConfig(dir), server: { host: '127.0.0.1', port: 0 } });
  await server.listen();
  const warmUp = async (): Promise<void> => {
    for (const url of warm) await server.warmupRequest(url);
    const optimizer = server.environments.client.depsOptimizer as Optimizer | undefined;
    for (let pending = pendingDeps(optimizer); pending.length > 0; pending = pendingDeps(optimizer)) await Promise.all(pending);
  };
  try {
    await withTimeout(warmUp(), 120_000, 'vite: bundling the dependencies');
  } catch (err) {
    await server.close();
    throw err;
  }
  return { url: `http://127.0.0.1:${(server.httpServer!.address() as AddressInfo).port}`, close: () => server.close() };
}

/** What this file reads of Vite's dependency optimizer (its type is not exported). */
type Optimizer = { metadata: { discovered: Record<string, { processing?: Promise<void> }> } };

/** The bundling runs of dependencies Vite discovered and has not bundled yet (`processing` is cleared once done). */
function pendingDeps(optimizer: Optimizer | undefined): Promise<void>[] {
  return Object.values(optimizer?.metadata.discovered ?? {}).flatMap((dep) => (dep.processing ? [dep.processing] : []));
}

/** `vite build` into the fixture's dist/. */
export async function viteBuild(dir: string): Promise<void> {
  await build(viteConfig(dir));
}

/** `vite preview` of the fixture's dist/. */
export async function vitePreview(dir: string): Promise<Served> {
  const server = await preview({ ...viteConfig(dir), preview: { host: '127.0.0.1', port: 0 } });
  return { url: `http://127.0.0.1:${(server.httpServer.address() as AddressInfo).port}`, close: () => server.close() };
}

/** webpack with the fixture's webpack.config.js; fails with webpack's errors, prints its warnings. */
export async function webpackBuild(dir: string): Promise<void> {
  const config = ((await import(pathToFileURL(join(dir, 'webpack.config.js')).href)) as { default: Configuration }).default;
  const compiler = webpack(config);
  const stats = await new Promise<webpack.Stats>((done, fail) => compiler.run((err, result) => (err || !result ? fail(err ?? new Error('webpack gave no stats')) : done(result))));
  await new Promise<void>((done) => compiler.close(() => done()));
  if (stats.hasErrors()) throw new Error(`webpack failed:\n${stats.toString('errors-only')}`);
  if (stats.hasWarnings()) console.warn(`[consumer] webpack warnings:\n${stats.toString('errors-warnings')}`);
}
