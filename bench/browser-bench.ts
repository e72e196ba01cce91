/**
 * npm run bench:browser [-- --json] [--quick] [--build] [--out docs/bench-browser.json]
 *
 * The BUILT browser SDK (dist/sdk/, `npm run build:sdk`) in the three engines of test/engines.ts, headless
 * (Debian Chromium with the WebGPU-through-SwiftShader flags, i.e. real WebGPU code on the CPU, slow;
 * Firefox ESR; WebKitGTK's MiniBrowser under Xvfb; FEWSHOT_ENGINES=chromium,firefox runs a subset), loaded
 * by a plain page (`import { createClassifier } from '/dist/sdk/index.js'`) from a plain static server, as an
 * app would ship it:
 *
 *  1. bundle size: bench/sdk-size.ts (JS per path, gzip -9; the .wasm separately)
 *  2. backends each engine offers: per backend (webgpu, wasm, cpu) a fresh page asks for it explicitly
 *     (`createClassifier({ backend, model: mobilenet_v1_025 })`): the backend that runs, or the error code
 *  3. warm classify latency per engine, backend and model (mobilenet_v2_100, mobilenet_v1_025,
 *     mobilenet_v3_small_075): every backend in Chromium, WASM in Firefox and WebKit (their only fast one
 *     here). One page per engine and backend (a page runs one backend) holding all three models, two
 *     classifiers per model, flip on (the default) and off, 2 examples each; after warm-up, single-image
 *     `classify(img)` calls on a decoded Caltech <img>, the models interleaved in rotating order (each round:
 *     every model, flip on and off), so a busy machine slows every model alike and v3/v1 ratios on the same
 *     backend come from one run; median and p90 (the page draws the image, reads the pixels, embeds, runs
 *     the head). `v3_vs_v1` holds those ratios (the issue's "no slower than mobilenet_v1_025").
 *  4. model load, Chromium: `createClassifier` (backend wasm, cacheModel: true, the default) on a fresh
 *     browser profile (weights from the network: the local server, loopback) vs the same profile after a
 *     browser restart (weights from IndexedDB); the bytes the server sent for /models/ prove where they came
 *     from. Also the first classify after it.
 *
 * Progress goes to stderr; with --json stdout carries exactly one JSON object. `--out <file>` also writes it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { defaultModelDir } from '../node/model-files.js';
import { MODELS, type ModelName } from '../src/models.js';
import { ENGINES, launchEngine, type EngineBrowser, type EngineName, type EnginePage } from '../test/engines.js';
import { datasetsDir, REPO_ROOT } from './env.js';
import { table } from './report.js';
import { formatSdkSize, measureSdkSize, SDK_DIST, type SdkSizeResult } from './sdk-size.js';
import { sendFile } from '../scripts/serve-folder.js';
import { emitReport } from './output.js';
import { log, median, now, ratio, round } from './stats.js';

// ------------------------------------------------------------------------------------ server and page

/** The page an app would write: the built SDK imported as a plain ES module, nothing else. */
export const SDK_PAGE_HTML = `<!doctype html>
<html>
  <head><meta charset="utf-8" /><title>fewshot-edge dist/sdk</title></head>
  <body>
    <script type="module">
      import { createClassifier, isFewshotError, startBackend } from '/dist/sdk/index.js';
      window.fewshot = { createClassifier, isFewshotError, startBackend };
      window.fewshotReady = true;
    </script>
  </body>
</html>
`;

export interface SdkServer {
  url: string;
  /** Bytes sent per top-level folder (`/dist/sdk`, `/models`, `/datasets`) since the last reset. */
  bytes: Map<string, number>;
  /** Every path requested since the last reset, with its status. */
  requests: { path: string; status: number }[];
  reset(): void;
  close(): Promise<void>;
}

/**
 * A plain static server (no bundler, no transforms): `/sdk.html` (the page above), `/dist/sdk/` (the build),
 * `/models/` (fetch-model's folder) and `/datasets/` (the real images). No cache headers, so the browser's
 * HTTP cache keeps nothing between page loads: only the SDK's IndexedDB model cache does.
 */
export async function startSdkServer(options: { sdkDir?: string } = {}): Promise<SdkServer> {
  const mounts: [string, string][] = [
    ['/dist/sdk/', resolve(options.sdkDir ?? SDK_DIST)],
    ['/models/', defaultModelDir()],
    ['/datasets/', datasetsDir()],
  ];
  const bytes = new Map<string, number>();
  const requests: { path: string; status: number }[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const send = (status: number, type: string, body: string): void => {
      requests.push({ path, status });
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (path === '/sdk.html') return send(200, 'text/html; charset=utf-8', SDK_PAGE_HTML);
    if (path === '/favicon.ico') return send(404, 'text/plain', 'no icon');
    const mount = mounts.find(([prefix]) => path.startsWith(prefix));
    const size = mount && sendFile(mount[1], path.slice(mount[0].length), res, { 'cache-control': 'no-store' });
    if (size === undefined) return send(404, 'text/plain', 'not found');
    const folder = mount![0].replace(/\/$/, '');
    bytes.set(folder, (bytes.get(folder) ?? 0) + size);
    requests.push({ path, status: 200 });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('The SDK server has no port.');
  return {
    url: `http://127.0.0.1:${address.port}`,
    bytes,
    requests,
    reset() {
      bytes.clear();
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** Opens /sdk.html in any engine and waits until the built SDK is imported (`window.fewshot`). */
async function openEngineSdkPage(browser: EngineBrowser, baseUrl: string): Promise<EnginePage> {
  const page = await browser.newPage(`${baseUrl}/sdk.html`);
  await page.waitFor(() => (window as unknown as { fewshotReady?: boolean }).fewshotReady === true, 60_000);
  return page;
}

/** Opens /sdk.html in a Playwright browser (test/sdk-bundle.test.ts) and waits until the built SDK is imported. */
export async function openSdkPage(context: Browser | BrowserContext, baseUrl: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (err) => log(`page error: ${err.message}`));
  // tsx (esbuild keepNames) wraps the named functions inside page.evaluate callbacks in `__name(fn, 'name')`.
  await page.addInitScript('globalThis.__name = (fn) => fn;');
  await page.goto(`${baseUrl}/sdk.html`);
  await page.waitForFunction(() => (window as unknown as { fewshotReady?: boolean }).fewshotReady === true, undefined, { timeout: 60_000 });
  return page;
}

/** The model URL the page uses: fetch-model's folder as the server mounts it (`model.json` or the `.tflite`). */
export const modelUrl = (model: ModelName): string => `/models/${MODELS[model].folder}/${MODELS[model].file}`;

/** Two visually distinct Caltech classes: one example each, and a different picture of the first as the query. */
export async function caltechPicks(): Promise<{ examples: { label: string; url: string }[]; query: { label: string; url: string } }> {
  const root = join(datasetsDir(), 'caltech101', 'images');
  const files = async (label: string): Promise<string[]> => (await readdir(join(root, label))).filter((f) => f.endsWith('.jpg')).sort();
  const [a, b] = ['accordion', 'dalmatian'];
  const filesA = await files(a!);
  const filesB = await files(b!);
  const url = (label: string, file: string): string => `/datasets/caltech101/images/${label}/${file}`;
  return {
    examples: [
      { label: a!, url: url(a!, filesA[0]!) },
      { label: b!, url: url(b!, filesB[0]!) },
    ],
    query: { label: a!, url: url(a!, filesA[1]!) },
  };
}

/** What the page sees of the SDK (the module's exports are only typed here, not imported). */
interface PageSdk {
  createClassifier(options: Record<string, unknown>): Promise<{
    addExample(label: string, image: unknown): Promise<unknown>;
    classify(image: unknown): Promise<{ label: string; confidence: number }>;
    info(): { backend: string; flip: boolean; model: string };
  }>;
  isFewshotError(error: unknown): error is Error & { code: string };
  startBackend(options: { backend: string }): Promise<{ backend: string }>;
}

// ----------------------------------------------------------------------------------------- options

interface Options {
  json: boolean;
  quick: boolean;
  build: boolean;
  out: string | undefined;
}

interface Plan {
  warmups: number;
  minReps: number;
  maxReps: number;
  /** Per backend and model, both flip settings together. */
  budgetMs: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: { json: { type: 'boolean', default: false }, quick: { type: 'boolean', default: false }, build: { type: 'boolean', default: false }, out: { type: 'string' } },
    strict: true,
  });
  return { json: values.json ?? false, quick: values.quick ?? false, build: values.build ?? false, out: values.out };
}

const planFor = (quick: boolean): Plan => (quick ? { warmups: 2, minReps: 3, maxReps: 5, budgetMs: 10_000 } : { warmups: 5, minReps: 10, maxReps: 40, budgetMs: 45_000 });
/**
 * WebGPU on SwiftShader takes seconds per classify (v2: ~13 s with flip): fewer rounds, so the three models
 * fit in ~10 minutes. Its ratios are still from one page and interleaved.
 */
const planForBackend = (plan: Plan, backend: Backend): Plan => (backend === 'webgpu' ? { ...plan, warmups: Math.min(plan.warmups, 2), minReps: Math.min(plan.minReps, 5) } : plan);

const BACKENDS = ['webgpu', 'wasm', 'cpu'] as const;
type Backend = (typeof BACKENDS)[number];
const MODEL_NAMES: readonly ModelName[] = ['mobilenet_v2_100', 'mobilenet_v1_025', 'mobilenet_v3_small_075'];
/** Latency is measured on every backend in Chromium; Firefox and WebKit have no WebGPU here and cpu is ~30x slower than WASM. */
const LATENCY_BACKENDS: Readonly<Record<EngineName, readonly Backend[]>> = { chromium: BACKENDS, firefox: ['wasm'], webkit: ['wasm'] };

// ----------------------------------------------------------------------------------------- backends

interface BackendProbe {
  active: string | null;
  error: string | null;
}

interface EngineResult {
  engine: EngineName;
  version: string;
  webgpu_adapter: string | null;
  /** Per backend asked for explicitly: the one that runs, or the error (e.g. BACKEND_UNAVAILABLE). */
  backends: Record<Backend, BackendProbe>;
}

/** Asks a fresh page for each backend explicitly (the SDK never falls back then), on the small v1 model. */
async function probeBackends(browser: EngineBrowser, baseUrl: string): Promise<Record<Backend, BackendProbe>> {
  const out = {} as Record<Backend, BackendProbe>;
  for (const backend of BACKENDS) {
    const page = await openEngineSdkPage(browser, baseUrl);
    try {
      out[backend] = await page.evaluate(
        async ({ backend, url }) => {
          const { createClassifier, isFewshotError } = (window as unknown as { fewshot: PageSdk }).fewshot;
          try {
            const clf = await createClassifier({ userId: 'probe', backend, model: { name: 'mobilenet_v1_025', url }, cacheModel: false });
            return { active: clf.info().backend, error: null };
          } catch (error) {
            return { active: null, error: isFewshotError(error) ? `${error.code}: ${error.message}` : String(error) };
          }
        },
        { backend, url: modelUrl('mobilenet_v1_025') },
      );
    } finally {
      await page.close();
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------ latency

interface LatencyResult {
  engine: EngineName;
  model: ModelName;
  backend: Backend;
  active_backend: string | null;
  error: string | null;
  create_ms: number | null;
  first_classify_ms: number | null;
  label: string | null;
  reps: number;
  flip: { median_ms: number | null; p90_ms: number | null };
  no_flip: { median_ms: number | null; p90_ms: number | null };
  flip_over_no_flip: number | null;
}

function p90(samples: readonly number[]): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)]!;
}

/** The page's classifiers per model, kept on `window` between evaluate calls (WebKit's script timeout is 170 s). */
type BenchWindow = {
  fewshot: PageSdk;
  bench: Record<string, { withFlip: Awaited<ReturnType<PageSdk['createClassifier']>>; noFlip: Awaited<ReturnType<PageSdk['createClassifier']>>; query: HTMLImageElement }>;
};

const failedLatency = (engine: EngineName, model: ModelName, backend: Backend, error: string): LatencyResult => ({
  engine,
  model,
  backend,
  active_backend: null,
  error,
  create_ms: null,
  first_classify_ms: null,
  label: null,
  reps: 0,
  flip: { median_ms: null, p90_ms: null },
  no_flip: { median_ms: null, p90_ms: null },
  flip_over_no_flip: null,
});

/**
 * Every model on one backend in one page: load each (`create_ms` is the model alone, the backend is started
 * first), then rounds of single-image classifies, models in rotating order, flip on and off alternating first.
 * A model that fails is reported with its error; the others are still measured.
 */
async function measureBackend(browser: EngineBrowser, baseUrl: string, backend: Backend, models: readonly ModelName[], plan: Plan): Promise<LatencyResult[]> {
  const { engine } = browser;
  const picks = await caltechPicks();
  const page = await openEngineSdkPage(browser, baseUrl);
  const errors = new Map<ModelName, string>();
  const setup = new Map<ModelName, { active: string; createMs: number; firstMs: number; label: string }>();
  const say = (error: unknown): string => (error instanceof Error ? error.message.split('\n')[0]! : String(error));
  try {
    await page.evaluate(async (backend) => {
      const w = window as unknown as BenchWindow;
      w.bench = {};
      await w.fewshot.startBackend({ backend });
    }, backend);
    for (const model of models) {
      try {
        setup.set(
          model,
          await page.evaluate(
            async ({ backend, model, url, picks }) => {
              const w = window as unknown as BenchWindow;
              const image = async (src: string): Promise<HTMLImageElement> => {
                const img = new Image();
                img.src = src;
                await img.decode();
                return img;
              };
              const examples = await Promise.all(picks.examples.map(async (e) => ({ label: e.label, img: await image(e.url) })));
              const query = await image(picks.query.url);
              const t0 = performance.now();
              const withFlip = await w.fewshot.createClassifier({ userId: `bench-${backend}-${model}-flip`, backend, model: { name: model, url }, cacheModel: false });
              const createMs = performance.now() - t0;
              const noFlip = await w.fewshot.createClassifier({ userId: `bench-${backend}-${model}-noflip`, backend, model: { name: model, url }, cacheModel: false, flip: false });
              for (const clf of [withFlip, noFlip]) for (const e of examples) await clf.addExample(e.label, e.img);
              const t1 = performance.now();
              const first = await withFlip.classify(query);
              const firstMs = performance.now() - t1;
              w.bench[model] = { withFlip, noFlip, query };
              return { active: withFlip.info().backend, createMs, firstMs, label: first.label };
            },
            { backend, model, url: modelUrl(model), picks },
          ),
        );
      } catch (error) {
        errors.set(model, say(error));
        log(`${engine} ${backend} ${model} failed: ${say(error)}`);
      }
    }
    const ready = models.filter((m) => setup.has(m));
    const samples = new Map(ready.map((m) => [m, { flip: [] as number[], plain: [] as number[] }]));
    // One evaluate per round: each stays far under WebKit's script timeout, even on a slow backend.
    const runRound = (order: ModelName[], flipFirst: boolean) =>
      page.evaluate(
        async ({ order, flipFirst }) => {
          const w = window as unknown as BenchWindow;
          const out: { model: string; flip: number; plain: number }[] = [];
          for (const model of order) {
            const { withFlip, noFlip, query } = w.bench[model]!;
            const time = async (clf: typeof withFlip) => {
              const t = performance.now();
              await clf.classify(query);
              return performance.now() - t;
            };
            const a = await time(flipFirst ? withFlip : noFlip);
            const b = await time(flipFirst ? noFlip : withFlip);
            out.push({ model, flip: flipFirst ? a : b, plain: flipFirst ? b : a });
          }
          return out;
        },
        { order, flipFirst },
      );
    for (let i = 0; i < plan.warmups; i++) await runRound(ready, i % 2 === 0);
    const start = now();
    for (let rep = 0; rep < plan.maxReps && (rep < plan.minReps || now() - start < plan.budgetMs * ready.length); rep++) {
      const order = ready.map((_, i) => ready[(i + rep) % ready.length]!);
      for (const r of await runRound(order, rep % 2 === 0)) {
        samples.get(r.model as ModelName)!.flip.push(r.flip);
        samples.get(r.model as ModelName)!.plain.push(r.plain);
      }
    }
    return models.map((model): LatencyResult => {
      const s = setup.get(model);
      const t = samples.get(model);
      if (!s || !t) return failedLatency(engine, model, backend, errors.get(model) ?? 'not measured');
      const flipMedian = median(t.flip);
      const plainMedian = median(t.plain);
      return {
        engine,
        model,
        backend,
        active_backend: s.active,
        error: null,
        create_ms: round(s.createMs),
        first_classify_ms: round(s.firstMs),
        label: s.label,
        reps: t.flip.length,
        flip: { median_ms: round(flipMedian), p90_ms: round(p90(t.flip)) },
        no_flip: { median_ms: round(plainMedian), p90_ms: round(p90(t.plain)) },
        flip_over_no_flip: ratio(flipMedian, plainMedian),
      };
    });
  } catch (error) {
    log(`${engine} ${backend} failed: ${say(error)}`);
    return models.map((model) => failedLatency(engine, model, backend, errors.get(model) ?? say(error)));
  } finally {
    await page.close();
  }
}

// ---------------------------------------------------------------------------------------- model load

interface LoadSample {
  create_ms: number | null;
  first_classify_ms: number | null;
  model_bytes_from_server: number;
  sdk_bytes_from_server: number;
  active_backend: string | null;
  error: string | null;
}

interface LoadResult {
  model: ModelName;
  backend: 'wasm';
  model_files_bytes: number;
  cold_network: LoadSample;
  cached_indexeddb: LoadSample;
  cached_over_cold: number | null;
}

async function timeCreate(browser: EngineBrowser, server: SdkServer, model: ModelName): Promise<LoadSample> {
  const picks = await caltechPicks();
  const page = await openEngineSdkPage(browser, server.url);
  server.reset();
  try {
    const r = await page.evaluate(
      async ({ model, url, picks }) => {
        const { createClassifier } = (window as unknown as { fewshot: PageSdk }).fewshot;
        const blob = async (src: string): Promise<Blob> => (await fetch(src)).blob();
        const example = await blob(picks.examples[0]!.url);
        const query = await blob(picks.query.url);
        const t0 = performance.now();
        const clf = await createClassifier({ userId: `load-${model}`, backend: 'wasm', model: { name: model, url } });
        const createMs = performance.now() - t0;
        await clf.addExample(picks.examples[0]!.label, example);
        const t1 = performance.now();
        await clf.classify(query);
        return { createMs, firstMs: performance.now() - t1, active: clf.info().backend };
      },
      { model, url: modelUrl(model), picks },
    );
    return {
      create_ms: round(r.createMs),
      first_classify_ms: round(r.firstMs),
      model_bytes_from_server: server.bytes.get('/models') ?? 0,
      sdk_bytes_from_server: server.bytes.get('/dist/sdk') ?? 0,
      active_backend: r.active,
      error: null,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    log(`load ${model} failed: ${message}`);
    return { create_ms: null, first_classify_ms: null, model_bytes_from_server: server.bytes.get('/models') ?? 0, sdk_bytes_from_server: 0, active_backend: null, error: message };
  } finally {
    await page.close();
  }
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir)) if (f === 'model.json' || f.includes('shard') || f.endsWith('.tflite')) total += (await stat(join(dir, f))).size;
  return total;
}

async function measureLoads(server: SdkServer): Promise<LoadResult[]> {
  const profile = await mkdtemp(join(tmpdir(), 'fewshot-browser-profile-'));
  try {
    const cold = new Map<ModelName, LoadSample>();
    const cached = new Map<ModelName, LoadSample>();
    let browser = await launchEngine('chromium', { profileDir: profile });
    try {
      for (const model of MODEL_NAMES) {
        log(`model load, fresh profile: ${model}`);
        cold.set(model, await timeCreate(browser, server, model));
      }
    } finally {
      await browser.close();
    }
    browser = await launchEngine('chromium', { profileDir: profile });
    try {
      for (const model of MODEL_NAMES) {
        log(`model load, same profile after a restart: ${model}`);
        cached.set(model, await timeCreate(browser, server, model));
      }
    } finally {
      await browser.close();
    }
    const results: LoadResult[] = [];
    for (const model of MODEL_NAMES) {
      const c = cold.get(model)!;
      const k = cached.get(model)!;
      results.push({
        model,
        backend: 'wasm',
        model_files_bytes: await folderBytes(join(defaultModelDir(), MODELS[model].folder)),
        cold_network: c,
        cached_indexeddb: k,
        cached_over_cold: ratio(k.create_ms, c.create_ms),
      });
    }
    return results;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

// -------------------------------------------------------------------------------------------- main

/** The issue's target: v3 embeds no slower than v1 on the same backend. Ratios of warm classify medians from one page. */
interface V3VsV1 {
  engine: EngineName;
  backend: Backend;
  flip_ms: Record<'v1' | 'v2' | 'v3', number | null>;
  no_flip_ms: Record<'v1' | 'v2' | 'v3', number | null>;
  /** v3 / v1 medians. */
  flip_ratio: number | null;
  no_flip_ratio: number | null;
  /** Both ratios at most 1; null when a side is missing. */
  no_slower: boolean | null;
}

function v3VsV1(latency: readonly LatencyResult[]): V3VsV1[] {
  const pairs = [...new Set(latency.map((l) => `${l.engine} ${l.backend}`))].map((k) => k.split(' ') as [EngineName, Backend]);
  return pairs.map(([engine, backend]) => {
    const of = (model: ModelName) => latency.find((l) => l.engine === engine && l.backend === backend && l.model === model);
    const [v1, v2, v3] = [of('mobilenet_v1_025'), of('mobilenet_v2_100'), of('mobilenet_v3_small_075')];
    const flipRatio = ratio(v3?.flip.median_ms, v1?.flip.median_ms);
    const noFlipRatio = ratio(v3?.no_flip.median_ms, v1?.no_flip.median_ms);
    return {
      engine,
      backend,
      flip_ms: { v1: v1?.flip.median_ms ?? null, v2: v2?.flip.median_ms ?? null, v3: v3?.flip.median_ms ?? null },
      no_flip_ms: { v1: v1?.no_flip.median_ms ?? null, v2: v2?.no_flip.median_ms ?? null, v3: v3?.no_flip.median_ms ?? null },
      flip_ratio: flipRatio,
      no_flip_ratio: noFlipRatio,
      no_slower: flipRatio == null || noFlipRatio == null ? null : flipRatio <= 1 && noFlipRatio <= 1,
    };
  });
}

export interface BrowserBenchResult {
  quick: boolean;
  machine: { cpus: number; cpu_model: string; node: string; loadavg_start: number[]; loadavg_end: number[] };
  images: { examples: string[]; query: string };
  plan: Plan;
  bundle: SdkSizeResult;
  engines: EngineResult[];
  latency: LatencyResult[];
  v3_vs_v1: V3VsV1[];
  model_load: LoadResult[];
  notes: string[];
  duration_s: number;
}

async function adapterInfo(browser: EngineBrowser, baseUrl: string): Promise<string | null> {
  const page = await openEngineSdkPage(browser, baseUrl);
  try {
    return await page.evaluate(async () => {
      const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> } }).gpu;
      const adapter = gpu ? await gpu.requestAdapter() : null;
      if (!adapter) return null;
      const info = adapter.info ?? {};
      return [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') || 'adapter without info';
    });
  } finally {
    await page.close();
  }
}

const ms = (v: number | null | undefined): string => (v == null ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));

export function formatBrowserBench(r: BrowserBenchResult): string {
  const out: string[] = [];
  const m = r.machine;
  const probe = (p: BackendProbe) => (p.active ?? `${p.error?.split(':')[0] ?? 'ERROR'}`);
  out.push(
    `fewshot-edge browser bench: built dist/sdk, headless, ${m.cpus} cpus (${m.cpu_model}), ` +
      `load avg ${m.loadavg_start.join('/')} -> ${m.loadavg_end.join('/')}${r.quick ? ', QUICK run' : ''}`,
    '',
    formatSdkSize(r.bundle),
    '',
    'Backends per engine: each asked for explicitly on a fresh page (the one that runs, or the error code).',
    table(
      ['engine', 'version', 'webgpu', 'wasm', 'cpu', 'WebGPU adapter'],
      r.engines.map((e) => [e.engine, e.version, probe(e.backends.webgpu), probe(e.backends.wasm), probe(e.backends.cpu), e.webgpu_adapter ?? 'none']),
    ),
    '',
    `Warm classify, one ${r.images.query} <img> per call (draw + read pixels + embed + head), ms; examples: ${r.images.examples.join(', ')}.`,
    table(
      ['engine', 'model', 'backend', 'active', 'reps', 'flip med', 'flip p90', 'no-flip med', 'no-flip p90', 'flip/no-flip', 'vs chromium wasm (flip)', 'createClassifier', 'first classify', 'label'],
      r.latency.map((l) => {
        const wasm = r.latency.find((x) => x.engine === 'chromium' && x.model === l.model && x.backend === 'wasm');
        return [
          l.engine,
          l.model,
          l.backend,
          l.error ? `ERROR: ${l.error.slice(0, 60)}` : l.active_backend,
          l.reps,
          ms(l.flip.median_ms),
          ms(l.flip.p90_ms),
          ms(l.no_flip.median_ms),
          ms(l.no_flip.p90_ms),
          l.flip_over_no_flip,
          ratio(l.flip.median_ms, wasm?.flip.median_ms),
          ms(l.create_ms),
          ms(l.first_classify_ms),
          l.label,
        ];
      }),
    ),
    '',
    'mobilenet_v3_small_075 against mobilenet_v1_025 on the same engine and backend (target: no slower): warm classify medians, ms, flip on / off, from one page with the models interleaved.',
    table(
      ['engine', 'backend', 'v1 flip', 'v2 flip', 'v3 flip', 'v3/v1 flip', 'v1 no-flip', 'v2 no-flip', 'v3 no-flip', 'v3/v1 no-flip', 'v3 no slower'],
      r.v3_vs_v1.map((c) => [
        c.engine,
        c.backend,
        ms(c.flip_ms.v1),
        ms(c.flip_ms.v2),
        ms(c.flip_ms.v3),
        c.flip_ratio,
        ms(c.no_flip_ms.v1),
        ms(c.no_flip_ms.v2),
        ms(c.no_flip_ms.v3),
        c.no_flip_ratio,
        c.no_slower == null ? '-' : c.no_slower ? 'yes' : 'NO',
      ]),
    ),
    '',
    'Model load in Chromium: createClassifier (backend wasm, cacheModel default true), fresh profile vs the same profile after a browser restart; ms.',
    table(
      ['model', 'weights KB', 'cold: create', 'cold: 1st classify', 'cold: /models KB sent', 'cached: create', 'cached: 1st classify', 'cached: /models KB sent', 'cached/cold'],
      r.model_load.map((l) => [
        l.model,
        (l.model_files_bytes / 1000).toFixed(0),
        l.cold_network.error ? `ERROR ${l.cold_network.error.slice(0, 40)}` : ms(l.cold_network.create_ms),
        ms(l.cold_network.first_classify_ms),
        (l.cold_network.model_bytes_from_server / 1000).toFixed(0),
        l.cached_indexeddb.error ? `ERROR ${l.cached_indexeddb.error.slice(0, 40)}` : ms(l.cached_indexeddb.create_ms),
        ms(l.cached_indexeddb.first_classify_ms),
        (l.cached_indexeddb.model_bytes_from_server / 1000).toFixed(0),
        l.cached_over_cold,
      ]),
    ),
    '',
    ...r.notes.map((n) => `note: ${n}`),
  );
  return out.join('\n');
}

/** Backends and latency in one engine: one browser, a fresh page per backend. */
async function benchEngine(engine: EngineName, server: SdkServer, plan: Plan): Promise<{ info: EngineResult; latency: LatencyResult[] }> {
  const browser = await launchEngine(engine);
  try {
    const webgpuAdapter = await adapterInfo(browser, server.url);
    const backends = await probeBackends(browser, server.url);
    log(`${engine} ${browser.version}: WebGPU adapter ${webgpuAdapter ?? 'none'}; ${BACKENDS.map((b) => `${b} ${backends[b].active ?? 'unavailable'}`).join(', ')}`);
    const latency: LatencyResult[] = [];
    for (const backend of LATENCY_BACKENDS[engine]) {
      log(`latency: ${engine} on ${backend}, ${MODEL_NAMES.join(', ')} interleaved`);
      const t = now();
      const results = await measureBackend(browser, server.url, backend, MODEL_NAMES, planForBackend(plan, backend));
      latency.push(...results);
      for (const l of results) log(`  ${l.model}: ${l.error ? `error: ${l.error}` : `flip ${ms(l.flip.median_ms)} ms, no flip ${ms(l.no_flip.median_ms)} ms, ${l.reps} reps`}`);
      log(`  (${((now() - t) / 1000).toFixed(0)} s)`);
    }
    return { info: { engine, version: browser.version, webgpu_adapter: webgpuAdapter, backends }, latency };
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const plan = planFor(options.quick);
  const started = now();
  const loadStart = loadavg();
  if (options.build) {
    log('npm run -s build:sdk');
    execFileSync('npm', ['run', '-s', 'build:sdk'], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const bundle = measureSdkSize();
  const picks = await caltechPicks();
  const server = await startSdkServer();
  try {
    const engines: EngineResult[] = [];
    const latency: LatencyResult[] = [];
    for (const engine of ENGINES) {
      const r = await benchEngine(engine, server, plan);
      engines.push(r.info);
      latency.push(...r.latency);
    }
    const modelLoad = ENGINES.includes('chromium') ? await measureLoads(server) : [];
    const notes = [
      'WebGPU runs on SwiftShader in Chromium (Vulkan on the CPU, --use-webgpu-adapter=swiftshader): real WebGPU code paths and shaders, CPU speed; a real GPU is much faster. Firefox ESR and WebKitGTK expose no WebGPU here.',
      'WASM runs without threads (the page is not cross-origin isolated), SIMD on in every engine: tfjs-backend-wasm-simd.wasm, fetched from beside dist/sdk/index.js (default wasmPaths).',
      'The "network" is a local static server on loopback: cold load = transfer over loopback + parse + IndexedDB write; a real network adds the weights\' transfer time.',
      'Every classify includes drawing the <img> to a canvas and reading its pixels back (the SDK\'s page-image path), with each engine\'s own canvas.',
      'Latency: one page per engine and backend holds all three models; rounds interleave them in rotating order (WebGPU: 2 warm-up rounds and at least 5 rounds, others at least 10). create_ms is the model load alone (the backend is started first with startBackend); first_classify_ms includes WebGPU\'s shader compilation.',
      'Model load is measured in Chromium only: WebKitGTK has no persistent profile under WebDriver (see docs/BROWSERS.md).',
    ];
    const result: BrowserBenchResult = {
      quick: options.quick,
      machine: {
        cpus: availableParallelism(),
        cpu_model: cpus()[0]?.model.trim() ?? 'unknown',
        node: process.version,
        loadavg_start: loadStart.map((v) => Math.round(v * 100) / 100),
        loadavg_end: loadavg().map((v) => Math.round(v * 100) / 100),
      },
      images: { examples: picks.examples.map((e) => e.url.replace('/datasets/caltech101/images/', '')), query: picks.query.url.replace('/datasets/caltech101/images/', '') },
      plan,
      bundle,
      engines,
      latency,
      v3_vs_v1: v3VsV1(latency),
      model_load: modelLoad,
      notes,
      duration_s: Math.round((now() - started) / 1000),
    };
    await emitReport(result, () => formatBrowserBench(result), options);
  } finally {
    await server.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`browser bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
