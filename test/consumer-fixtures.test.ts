/**
 * Acceptance tests of the installed package (`npm pack` + `npm install` outside the repository): real apps
 * that import `fewshot-edge/sdk` with no configuration for it, in Chromium, Firefox ESR and WebKitGTK.
 *
 *  - Vite: dev server, and `vite build` + `vite preview`; each on the page and in the app's module worker
 *    (`import 'fewshot-edge/sdk/worker'` + connectWorker)
 *  - webpack 5: production build, static server
 *  - no bundler: /node_modules/fewshot-edge/dist/sdk/index.js as a module, without and with COOP/COEP
 *
 * Each: the default backend (auto, no wasmPaths) must end on wasm or webgpu, never cpu; 5-way 1-shot on
 * Caltech-101; the examples survive a page reload; then mobilenet_v3_small_075 on the same page (its
 * `.tflite` reader is a separate chunk of the SDK, so each bundler must emit and serve it). Each app is
 * built and served once, lazily (a failing build fails its own tests only), and each engine's browser is
 * shared by all fixtures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installedPackage, type InstalledPackage } from './consumer/install.js';
import { ENGINES, launchEngine, type EngineBrowser } from './engines.js';
import { withTimeout } from './engines/process.js';
import { prepareFixture, removeFixture, type Fixture, type Template } from './consumer/fixtures.js';
import { describeResult, expectHealthy, runScenario, SCENARIO_TIMEOUT_MS, type ScenarioResult } from './consumer/scenario.js';
import { ISOLATION_HEADERS, serveStatic, viteBuild, viteDev, vitePreview, webpackBuild, type Served } from './consumer/servers.js';
import { Timings } from './consumer/timings.js';

let pkg: InstalledPackage;
/** Every app setup started (a build may still run when the tests end early): awaited before cleaning up. */
const setups: Promise<unknown>[] = [];
const fixtures: Fixture[] = [];
const servers: Served[] = [];
const timings = new Timings();
const timed = timings.timed.bind(timings);

/** Runs `start` once, on first use, and remembers its promise (also a failure: reported by each test). */
function once<T>(start: () => Promise<T>): () => Promise<T> {
  let started: Promise<T> | undefined;
  return () => {
    if (!started) setups.push((started = start()).catch(() => undefined));
    return started;
  };
}

async function fixture(template: Template): Promise<Fixture> {
  const made = await prepareFixture(template, pkg.appDir);
  fixtures.push(made);
  return made;
}

function served(server: Served): Served {
  servers.push(server);
  return server;
}

interface App {
  fixture: Fixture;
  /** The page's URL: where the fixture's static root is. */
  url: string;
}

// One folder per app: the dev server's dependency cache and a build's dist/ never meet.
const viteDevApp = once(async (): Promise<App> => {
  const f = await timed('vite dev: prepare', () => fixture('vite-app'));
  const server = served(await timed('vite dev: start', () => viteDev(f.dir, ['/main.js', '/classifier.worker.js'])));
  return { fixture: f, url: `${server.url}/` };
});
const viteBuiltApp = once(async (): Promise<App> => {
  const f = await timed('vite build: prepare', () => fixture('vite-app'));
  await timed('vite build', () => viteBuild(f.dir));
  const server = served(await vitePreview(f.dir));
  return { fixture: f, url: `${server.url}/` };
});
const webpackApp = once(async (): Promise<App> => {
  const f = await timed('webpack: prepare', () => fixture('webpack-app'));
  await timed('webpack build', () => webpackBuild(f.dir));
  const server = served(await serveStatic(f.staticDir));
  return { fixture: f, url: `${server.url}/` };
});
/** The page without a bundler: a static server over appDir, so /node_modules/fewshot-edge/ is reachable. */
const plainPage = once(async () => timed('plain page: prepare', () => fixture('plain-page')));
const plainApp = (headers: Record<string, string>) =>
  once(async (): Promise<App> => {
    const f = await plainPage();
    const server = served(await serveStatic(pkg.appDir, headers));
    return { fixture: f, url: `${server.url}/${f.dir.slice(pkg.appDir.length + 1)}/` };
  });

interface Variant {
  name: string;
  app: () => Promise<App>;
  /** Appended to the app's URL. */
  query?: string;
  check(result: ScenarioResult): void;
}

const VARIANTS: Variant[] = [
  { name: 'vite dev', app: viteDevApp, check: (r) => expectHealthy(r) },
  { name: 'vite dev, in a worker', app: viteDevApp, query: '?worker', check: (r) => expectHealthy(r) },
  { name: 'vite build', app: viteBuiltApp, check: (r) => expectHealthy(r) },
  { name: 'vite build, in a worker', app: viteBuiltApp, query: '?worker', check: (r) => expectHealthy(r) },
  { name: 'webpack', app: webpackApp, check: (r) => expectHealthy(r) },
  { name: 'plain page', app: plainApp({}), check: (r) => expectHealthy(r) },
  {
    name: 'plain page, COOP/COEP',
    app: plainApp(ISOLATION_HEADERS),
    check: (r) => {
      expect(r.first.crossOriginIsolated, 'the headers did not isolate the page').toBe(true);
      // WebGPU is off, so auto must pick wasm: with threads (info().threads > 1) or single-thread SIMD.
      expectHealthy(r, ['wasm']);
      expect(r.first.after!.threads, 'info().threads').toBeGreaterThanOrEqual(1);
    },
  },
];

beforeAll(async () => {
  pkg = await timed('install the packed package', installedPackage);
  // webpack re-minifies the SDK (a minute or more on 2 cores, one terser process): start it while the
  // first engine runs the Vite fixtures. A failure is reported by the webpack tests, which await it.
  void webpackApp();
}, 600_000);

afterAll(async () => {
  await withTimeout(Promise.all(setups), 300_000, 'the app builds still running').catch((err: unknown) => console.warn(String(err)));
  await Promise.allSettled(servers.map((s) => s.close()));
  await Promise.allSettled(fixtures.map(removeFixture));
  timings.print('consumer');
}, 360_000);

describe.each(ENGINES)('the installed package in %s', (engine) => {
  let browser: EngineBrowser | undefined;

  beforeAll(async () => {
    browser = await timed(`${engine}: launch`, () => launchEngine(engine, { webgpu: false }));
    timings.lines.push(`${engine} ${browser.version}`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  }, 60_000);

  for (const variant of VARIANTS) {
    // The first use of an app includes its build (Vite, webpack: tens of seconds on 2 cores).
    it(`${variant.name}: default backend, 5 classes, survives a reload; mobilenet_v3_small_075 too`, async () => {
      const app = await variant.app();
      const userId = `${variant.name.replace(/\W+/g, '-')}-${engine}-${Date.now()}`;
      const result = await runScenario(browser!, app.fixture, `${app.url}${variant.query ?? ''}`, userId);
      timings.lines.push(`${variant.name} in ${engine}: ${describeResult(result)}`);
      variant.check(result);
    }, SCENARIO_TIMEOUT_MS + 240_000);
  }
});
