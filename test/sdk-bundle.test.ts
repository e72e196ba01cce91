/**
 * The browser build as shipped (`npm run build` -> dist/sdk/): its files, its types as an app's TypeScript
 * sees them, its size budget, and the BUILT bundle running in Debian Chromium from a plain static server
 * (no Vite, no import map): backend wasm with the default wasmPaths, i.e. the .wasm beside index.js.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caltechPicks, modelUrl, openSdkPage, startSdkServer, type SdkServer } from '../bench/browser-bench.js';
import { measureSdkSize, SDK_BUDGET_GZIP_BYTES, SDK_DIST, WASM_FILES } from '../bench/sdk-size.js';
import { launchBrowser } from './browser-harness.js';
import { repoRoot } from './paths.js';

const HINT = 'run `npm run build` (or `npm run build:sdk`)';

type Picks = Awaited<ReturnType<typeof caltechPicks>>;

/** In the page: a classifier made with `options` learns the picks' examples and classifies their query. */
function learnAndClassify(page: Page, picks: Picks, options: Record<string, unknown>) {
  return page.evaluate(
    async ({ options, picks }) => {
      type Sdk = {
        createClassifier(o: Record<string, unknown>): Promise<{
          addExample(label: string, image: Blob): Promise<unknown>;
          classify(image: Blob): Promise<{ label: string; confidence: number }>;
          info(): { backend: string; model: string; dim: number; examples: number; classes: number };
        }>;
      };
      const { createClassifier } = (window as unknown as { fewshot: Sdk }).fewshot;
      const blob = async (src: string): Promise<Blob> => {
        const response = await fetch(src);
        if (!response.ok) throw new Error(`${src}: HTTP ${response.status}`);
        return response.blob();
      };
      const clf = await createClassifier(options);
      for (const example of picks.examples) await clf.addExample(example.label, await blob(example.url));
      const prediction = await clf.classify(await blob(picks.query.url));
      return { label: prediction.label, confidence: prediction.confidence, info: clf.info() };
    },
    { options, picks },
  );
}

describe('dist/sdk, the browser build', () => {
  it('has the ESM entry, its declarations and the three tfjs .wasm files side by side', () => {
    for (const file of ['index.js', 'index.d.ts', ...WASM_FILES]) {
      expect(existsSync(join(SDK_DIST, file)), `dist/sdk/${file} is missing: ${HINT}`).toBe(true);
    }
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }>; files: string[] };
    expect(pkg.exports['./sdk']).toEqual({ types: './dist/sdk/index.d.ts', default: './dist/sdk/index.js' });
    expect(pkg.files).toContain('dist/sdk');
  });

  it('ships the licences of every bundled package beside it', () => {
    const notices = readFileSync(join(SDK_DIST, 'THIRD_PARTY_LICENSES.txt'), 'utf8');
    for (const name of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu', 'idb-keyval', 'comlink', 'jpeg-js']) {
      const version = (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
      expect(notices).toContain(`${name}@${version} (`);
    }
  });

  it('contains no Node-only code', () => {
    for (const file of readdirSync(SDK_DIST).filter((f) => f.endsWith('.js'))) {
      const code = readFileSync(join(SDK_DIST, file), 'utf8');
      expect(code, file).not.toMatch(/\bfrom\s*["'`]node:|import\(\s*["'`]node:|require\(\s*["'`]node:/);
      expect(code, `${file}: a new URL(..., import.meta.url) was inlined as a data: URL`).not.toMatch(/new URL\(["'`]data:/);
    }
  });

  it('types resolve for an app: createClassifier, the options and the re-exported core types', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fewshot-sdk-types-'));
    try {
      const entry = relative(dir, join(SDK_DIST, 'index.js'));
      // Each @ts-expect-error fails the check if the type behind it resolved to `any`.
      await writeFile(
        join(dir, 'app.mts'),
        `import { createClassifier, FewshotError, isFewshotError, MODELS, type BrowserClassifierOptions, type BackendChoice, type ModelName, type Prediction } from '${entry}';
const options: BrowserClassifierOptions = { userId: 'alice', backend: 'wasm', model: { name: 'mobilenet_v1_025', url: '/models/v1/model.json' } };
export async function run(image: Blob): Promise<string> {
  const clf = await createClassifier(options);
  await clf.addExample('mug', image);
  const prediction: Prediction = await clf.classify(image);
  // @ts-expect-error a label is a string
  const wrong: number = prediction.label;
  return \`\${prediction.label} \${prediction.confidence.toFixed(2)} \${clf.info().backend} \${wrong}\`;
}
// @ts-expect-error not one of the models
export const badModel: ModelName = 'resnet50';
// @ts-expect-error not a backend
export const badBackend: BackendChoice = 'webgl';
export const dim: number = MODELS.mobilenet_v2_100.dim;
export const err = new FewshotError('INVALID_ARGUMENT', 'x');
export const is: boolean = isFewshotError(err) && err.code === 'INVALID_ARGUMENT';
`,
      );
      await writeFile(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [], skipLibCheck: true },
          files: ['app.mts'],
        }),
      );
      const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
      let output = '';
      try {
        execFileSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', stdio: 'pipe' });
      } catch (error) {
        output = String((error as { stdout?: string }).stdout ?? error);
      }
      expect(output).toBe('');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it(`keeps the default path (auto -> WebGPU, mobilenet_v2_100) within ${SDK_BUDGET_GZIP_BYTES / 1000} KB of gzipped JavaScript`, () => {
    const size = measureSdkSize();
    const defaultPath = size.paths.find((p) => p.key === 'default_webgpu_v2')!;
    expect(defaultPath.js.gzip9_bytes).toBe(size.default_path_js_gzip9_bytes);
    expect(size.default_path_js_gzip9_bytes).toBeLessThanOrEqual(SDK_BUDGET_GZIP_BYTES);
    // The WebGPU path loads neither the cpu backend nor the v1 model format.
    const cpuChunk = size.chunks.find((c) => c.role === 'dynamic: cpu')!.file;
    const v1Chunk = size.chunks.find((c) => c.role === 'dynamic: v1')!.file;
    expect(defaultPath.files).not.toContain(cpuChunk);
    expect(defaultPath.files).not.toContain(v1Chunk);
    // ...and the cpu path does not load WebGPU.
    const webgpuChunk = size.chunks.find((c) => c.role === 'dynamic: webgpu')!.file;
    expect(size.paths.find((p) => p.key === 'cpu_v2')!.files).not.toContain(webgpuChunk);
  });

  it(`splits mobilenet_v3_small_075's .tflite reader (with flatbuffers) into its own chunk, counted apart: only v3 paths load it, each within ${SDK_BUDGET_GZIP_BYTES / 1000} KB without it`, () => {
    const size = measureSdkSize();
    const tfliteChunk = size.chunks.find((c) => c.role === 'dynamic: v3')!;
    expect(tfliteChunk.file).toMatch(/^tflite-[\w-]+\.js$/);
    expect(size.tflite_only).toMatchObject({ files: [tfliteChunk.file], loaded_by_other_paths: false, v3_paths_within_budget: true });
    expect(readFileSync(join(SDK_DIST, tfliteChunk.file), 'utf8')).toContain('TFL3'); // the reader checks the file identifier
    for (const p of size.paths) expect([p.key, p.files.includes(tfliteChunk.file)]).toEqual([p.key, p.key.endsWith('_v3')]);
    // A v3 page loads neither v2's tfjs-layers nor v1's converter.
    const otherModels = size.chunks.filter((c) => c.role === 'dynamic: v2' || c.role === 'dynamic: v1').map((c) => c.file);
    for (const p of size.paths.filter((x) => x.key.endsWith('_v3'))) expect(p.files.filter((f) => otherModels.includes(f))).toEqual([]);
    const kb = (b: number) => `${(b / 1000).toFixed(1)} KB`;
    const withoutIt = Object.entries(size.tflite_only.v3_paths_without_it_gzip9_bytes).map(([k, b]) => `${k} ${kb(b)}`);
    console.log(`[sdk-bundle] default path ${kb(size.default_path_js_gzip9_bytes)} gzip; v3 only (counted apart): ${tfliteChunk.file} ${kb(size.tflite_only.gzip9_bytes)} gzip; v3 paths without it: ${withoutIt.join(', ')}`);
  });

  describe('in Debian Chromium, imported by a plain page from a static server', () => {
    let server: SdkServer;
    let browser: Browser;

    beforeAll(async () => {
      server = await startSdkServer();
      browser = await launchBrowser();
    });

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    it('classifies a real Caltech image after one example of each of two classes (wasm, default wasmPaths)', async () => {
      const picks = await caltechPicks();
      const page = await openSdkPage(browser, server.url);
      server.reset();
      const result = await learnAndClassify(page, picks, { userId: 'sdk-bundle-test', backend: 'wasm', model: { name: 'mobilenet_v2_100', url: modelUrl('mobilenet_v2_100') } });
      await page.close();
      expect(result.info).toMatchObject({ backend: 'wasm', examples: 2, classes: 2 });
      expect(result.label).toBe(picks.query.label);
      // tfjs fetched its binary from beside dist/sdk/index.js (the SDK's default wasmPaths), and nothing was missing.
      const wasmFetched = server.requests.filter((r) => r.path.endsWith('.wasm'));
      expect(wasmFetched.length).toBeGreaterThan(0);
      for (const r of wasmFetched) {
        expect(r.path).toMatch(/^\/dist\/sdk\/tfjs-backend-wasm[-a-z]*\.wasm$/);
        expect(r.status).toBe(200);
      }
      expect(server.requests.filter((r) => r.status !== 200 && r.path !== '/favicon.ico')).toEqual([]);
      // mobilenet_v2_100 never downloads v3's .tflite reader.
      expect(server.requests.filter((r) => /\/tflite-[\w-]+\.js$/.test(r.path))).toEqual([]);
    });

    it("loads mobilenet_v3_small_075 with its own tflite chunk (and not v2's or v1's model code), and classifies", async () => {
      const picks = await caltechPicks();
      const chunks = measureSdkSize().chunks;
      const chunkOf = (role: string) => `/dist/sdk/${chunks.find((c) => c.role === role)!.file}`;
      const page = await openSdkPage(browser, server.url);
      server.reset();
      const result = await learnAndClassify(page, picks, {
        userId: 'sdk-bundle-v3',
        backend: 'wasm',
        model: { name: 'mobilenet_v3_small_075', url: modelUrl('mobilenet_v3_small_075') },
        cacheModel: false,
      });
      await page.close();
      expect(result.info).toMatchObject({ backend: 'wasm', model: 'mobilenet_v3_small_075', dim: 1024 });
      expect(result.label).toBe(picks.query.label);
      const fetched = server.requests.map((r) => r.path);
      expect(fetched).toContain(chunkOf('dynamic: v3'));
      expect(fetched).not.toContain(chunkOf('dynamic: v2'));
      expect(fetched).not.toContain(chunkOf('dynamic: v1'));
      expect(server.requests.filter((r) => r.status !== 200 && r.path !== '/favicon.ico')).toEqual([]);
    });
  });

  describe('when the .wasm files are not served (a bundler or server that lost them)', () => {
    let server: SdkServer;
    let browser: Browser;
    let sdkDir: string;

    beforeAll(async () => {
      // dist/sdk without its .wasm files: every binary answers 404.
      sdkDir = await mkdtemp(join(tmpdir(), 'fewshot-sdk-no-wasm-'));
      await cp(SDK_DIST, sdkDir, { recursive: true, filter: (src) => !src.endsWith('.wasm') });
      server = await startSdkServer({ sdkDir });
      browser = await launchBrowser({ webgpu: false });
    });

    afterAll(async () => {
      await browser?.close();
      await server?.close();
      await rm(sdkDir, { recursive: true, force: true });
    });

    type Sdk = { createClassifier(o: Record<string, unknown>): Promise<{ info(): Record<string, unknown> }> };

    it('auto ends on cpu but says why: info().failedBackends names the missing file, and the console warns once with the fix', async () => {
      const page = await openSdkPage(browser, server.url);
      const warnings: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'warning' && m.text().startsWith('fewshot-edge:')) warnings.push(m.text());
      });
      const info = await page.evaluate(async (url) => {
        const { createClassifier } = (window as unknown as { fewshot: Sdk }).fewshot;
        const a = await createClassifier({ userId: 'no-wasm-a', model: { name: 'mobilenet_v1_025', url } });
        await createClassifier({ userId: 'no-wasm-b', model: { name: 'mobilenet_v1_025', url } });
        return a.info();
      }, modelUrl('mobilenet_v1_025'));
      await page.close();
      expect(info.backend).toBe('cpu');
      const failed = info.failedBackends as { backend: string; reason: string }[];
      expect(failed.map((f) => f.backend)).toEqual(['webgpu', 'wasm']);
      expect(failed[1]!.reason).toMatch(/tfjs-backend-wasm-simd\.wasm is not served at http:\/\/127\.0\.0\.1:\d+\/dist\/sdk\/tfjs-backend-wasm-simd\.wasm \(HTTP 404\)/);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/cpu backend.*wasmPaths/);
    });

    it('an explicit wasm backend rejects with BACKEND_UNAVAILABLE naming the URL, and never hangs', async () => {
      const page = await openSdkPage(browser, server.url);
      const outcome = await page.evaluate(async (url) => {
        const { createClassifier } = (window as unknown as { fewshot: Sdk }).fewshot;
        try {
          await createClassifier({ userId: 'no-wasm-explicit', backend: 'wasm', model: { name: 'mobilenet_v1_025', url } });
          return { settled: 'resolved' };
        } catch (err) {
          return { settled: 'rejected', code: (err as { code?: string }).code, message: String((err as Error).message) };
        }
      }, modelUrl('mobilenet_v1_025'));
      await page.close();
      expect(outcome).toMatchObject({ settled: 'rejected', code: 'BACKEND_UNAVAILABLE' });
      expect(outcome.message).toMatch(/dist\/sdk\/tfjs-backend-wasm-simd\.wasm \(HTTP 404\)/);
    });
  });
});
