import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClassifier, MemoryStore } from '../node/index.js';
import { openTestPage, startPageServer, startStaticServer, WASM_PATHS } from './browser-harness.js';
import { FEATURES } from './browser/features.js';
import { cosine } from './cosine.js';
import { ENGINES, launchEngine, type EngineBrowser, type EnginePage } from './engines.js';
import { caltechDir } from './paths.js';

const CLASSES = ['accordion', 'anchor', 'bass', 'binocular', 'brontosaurus'];
const filesOf = (label: string) => readdirSync(join(caltechDir, label)).sort();
const urlOf = (label: string, index: number) => `/datasets/caltech101/images/${label}/${filesOf(label)[index]}`;
const V2 = { name: 'mobilenet_v2_100' as const, url: '/models/mobilenet_v2_100_224_feature/model.json' };

// One page server for every engine; a second one sends the COOP/COEP headers for the threads test.
let server: Awaited<ReturnType<typeof startPageServer>>;
let isolated: Awaited<ReturnType<typeof startPageServer>>;
beforeAll(async () => {
  [server, isolated] = await Promise.all([startPageServer(), startPageServer({ crossOriginIsolated: true })]);
});
afterAll(async () => {
  await Promise.all([server?.server.close(), isolated?.server.close()]);
});

describe.each(ENGINES)('browser SDK in %s, real weights and images', (engine) => {
  const expected = FEATURES[engine];
  let browser: EngineBrowser;
  let page: EnginePage; // every WASM test shares this page, so the model loads once per engine

  beforeAll(async () => {
    browser = await launchEngine(engine);
    page = await openTestPage(browser, server.url);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('learns 5 Caltech-101 classes from one photo each on WASM (SIMD) and classifies held-out photos', async () => {
    const examples = CLASSES.map((label) => ({ label, url: urlOf(label, 0) }));
    const heldOut = CLASSES.flatMap((label) => filesOf(label).slice(1).map((_, i) => ({ label, url: urlOf(label, i + 1) })));
    const result = await page.evaluate(
      async ({ examples, heldOut, model, wasmPaths }) => {
        const { sdk, testing, tf } = window;
        const clf = await sdk.createClassifier({ userId: 'accuracy', backend: 'wasm', wasmPaths, model });
        for (const e of examples) await clf.addExample(e.label, await testing.blob(e.url));
        let correct = 0;
        for (const h of heldOut) if ((await clf.classify(await testing.blob(h.url))).label === h.label) correct++;
        return { correct, info: clf.info(), backend: tf.getBackend(), simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT') };
      },
      { examples, heldOut, model: V2, wasmPaths: WASM_PATHS },
    );
    expect(result.backend).toBe('wasm');
    expect(result.simd).toBe(expected.wasmSimd);
    expect(result.info).toMatchObject({ backend: 'wasm', model: 'mobilenet_v2_100', dim: 1280, classes: 5, examples: 5 });
    // Node gives 128/145 on these files (classifier.test.ts); each browser decodes JPEG with its own decoder.
    console.log(`${engine} ${browser.version} 5-way 1-shot: ${result.correct}/${heldOut.length}`);
    expect(result.correct / heldOut.length).toBeGreaterThanOrEqual(0.78);
  });

  it('embeds every kind of page image alike: Blob, <img>, <canvas>, OffscreenCanvas, ImageBitmap, ImageData, <video>, bytes', async () => {
    const result = await page.evaluate(
      async ({ url, model, wasmPaths }) => {
        const { sdk, testing } = window;
        const clf = await sdk.createClassifier({ userId: 'inputs', backend: 'wasm', wasmPaths, model });
        const blob = await testing.blob(url);
        const img = await testing.image(url);
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth;
        canvas.height = img.naturalHeight;
        canvas.getContext('2d')!.drawImage(img, 0, 0);
        const offscreen = new OffscreenCanvas(canvas.width, canvas.height);
        offscreen.getContext('2d')!.drawImage(img, 0, 0);
        const imageData = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
        const reference = await clf.embed(blob);
        const kinds: Record<string, unknown> = {
          img,
          canvas,
          offscreen,
          bitmap: await createImageBitmap(blob),
          imageData,
          bytes: new Uint8Array(await blob.arrayBuffer()),
        };
        const cosines: Record<string, number> = {};
        for (const [kind, input] of Object.entries(kinds)) cosines[kind] = testing.cosine(reference, await clf.embed(input as Blob));
        const video = await testing.videoOf(img, 10_000);
        if (typeof video !== 'string') cosines.video = testing.cosine(reference, await clf.embed(video));
        return { cosines, video: typeof video === 'string' ? video : 'plays' };
      },
      { url: urlOf('bass', 3), model: V2, wasmPaths: WASM_PATHS },
    );
    const { cosines } = result;
    for (const kind of ['img', 'canvas', 'offscreen', 'bitmap', 'imageData']) expect([kind, cosines[kind]! > 0.9999]).toEqual([kind, true]);
    // The bytes go through jpeg-js instead of the browser's decoder.
    expect(cosines.bytes).toBeGreaterThan(0.99);
    // A <video> of the canvas's stream (page.ts says why the canvas is repainted); its frame goes through a video encoder.
    expect(result.video).toBe('plays');
    expect(cosines.video).toBeGreaterThan(0.95);
  });

  it('answers bad input with the core error codes and keeps every stored example', async () => {
    const foreign = await startStaticServer(caltechDir, { cors: false });
    try {
      const codes = await page.evaluate(
        async ({ url, foreignUrl, model, wasmPaths }) => {
          const { sdk, testing } = window;
          const clf = await sdk.createClassifier({ userId: 'bad-input', backend: 'wasm', wasmPaths, model });
          await clf.addExample('bass', await testing.blob(url));
          const tainted = new Image(); // no crossOrigin: its pixels are not the page's to read
          tainted.src = foreignUrl;
          await tainted.decode();
          const unloaded = new Image();
          const out = {
            broken: await testing.codeOf(() => clf.addExample('x', new Blob([new Uint8Array(1000).fill(7)], { type: 'image/jpeg' }))),
            empty: await testing.codeOf(() => clf.addExample('x', new Blob([]))),
            zeroCanvas: await testing.codeOf(() => clf.addExample('x', Object.assign(document.createElement('canvas'), { width: 0, height: 0 }))),
            tainted: await testing.codeOf(() => clf.addExample('x', tainted)),
            unloaded: await testing.codeOf(() => clf.addExample('x', unloaded)),
            longLabel: await testing.codeOf(async () => clf.addExample('x'.repeat(10_000), await testing.blob(url))),
            controlLabel: await testing.codeOf(async () => clf.addExample('a\u0000b', await testing.blob(url))),
            notAnImage: await testing.codeOf(() => clf.classify({ nope: true } as unknown as Blob)),
            examples: 0,
          };
          out.examples = (await sdk.createClassifier({ userId: 'bad-input', backend: 'wasm', wasmPaths, model })).info().examples;
          return out;
        },
        { url: urlOf('bass', 0), foreignUrl: `${foreign.url}/anchor/${filesOf('anchor')[0]}`, model: V2, wasmPaths: WASM_PATHS },
      );
      expect(codes).toEqual({
        broken: 'INVALID_IMAGE',
        empty: 'INVALID_IMAGE',
        zeroCanvas: 'INVALID_IMAGE',
        tainted: 'INVALID_IMAGE',
        unloaded: 'INVALID_IMAGE',
        longLabel: 'INVALID_LABEL',
        controlLabel: 'INVALID_LABEL',
        notAnImage: 'INVALID_IMAGE',
        examples: 1,
      });
    } finally {
      await foreign.close();
    }
  });

  it(`refuses a truncated JPEG (the engine's own decoder ${expected.decodesTruncatedJpeg ? 'decodes it partially' : 'rejects it'}), storing nothing`, async () => {
    const result = await page.evaluate(
      async ({ url, model, wasmPaths }) => {
        const { sdk, testing } = window;
        const truncated = (await testing.blob(url)).slice(0, 600); // the header and a sliver of the first scan
        const engineDecodes = await createImageBitmap(truncated).then(() => true, () => false);
        const clf = await sdk.createClassifier({ userId: 'truncated', backend: 'wasm', wasmPaths, model });
        const code = await testing.codeOf(() => clf.addExample('x', truncated));
        return { engineDecodes, code, examples: clf.info().examples };
      },
      { url: urlOf('bass', 0), model: V2, wasmPaths: WASM_PATHS },
    );
    // The core's rule (src/pixels.ts): a truncated file is an error, not a half-grey picture learnt as an example.
    expect(result).toEqual({ engineDecodes: expected.decodesTruncatedJpeg, code: 'INVALID_IMAGE', examples: 0 });
  });

  it('moves examples from Node to the browser and back in the one export format', async () => {
    const node = await createClassifier({ userId: 'mover', store: new MemoryStore(), workers: 0 });
    for (const label of CLASSES.slice(0, 3)) await node.addExample(label, readFileSync(join(caltechDir, label, filesOf(label)[0]!)));
    const query = urlOf('anchor', 6);
    const fromNode = await node.classify(readFileSync(join(caltechDir, 'anchor', filesOf('anchor')[6]!)));
    const result = await page.evaluate(
      async ({ document, query, model, wasmPaths }) => {
        const { sdk, testing } = window;
        const clf = await sdk.createClassifier({ userId: 'mover', backend: 'wasm', wasmPaths, model });
        const imported = await clf.import(document);
        const prediction = await clf.classify(await testing.blob(query));
        await clf.addExample('bass', await testing.blob(query.replace(/anchor\/[^/]+$/, 'bass/image_0001.jpg')));
        return { imported, label: prediction.label, exported: await clf.export() };
      },
      { document: await node.export(), query, model: V2, wasmPaths: WASM_PATHS },
    );
    expect(result.imported).toBe(3);
    expect(result.label).toBe(fromNode.label);
    const back = await createClassifier({ userId: 'mover-back', store: new MemoryStore(), workers: 0 });
    expect(await back.import(result.exported)).toBe(4);
    expect(back.listClasses().map((c) => c.label)).toEqual(['accordion', 'anchor', 'bass']);
  });

  it('runs in a Web Worker: teaches and classifies off the main thread, error codes intact', async () => {
    const result = await page.evaluate(
      async ({ examples, query, model, wasmPaths }) => {
        const { sdk, testing } = window;
        const worker = window.startSdkWorker();
        try {
          const clf = await sdk.connectWorker(worker, { userId: 'in-worker', backend: 'wasm', wasmPaths: new URL(wasmPaths, location.href).href, model: { ...model, url: new URL(model.url, location.href).href } });
          await clf.addExample(examples[0]!.label, await testing.image(examples[0]!.url)); // an <img>, sent as an ImageBitmap
          await clf.addExample(examples[1]!.label, await testing.blob(examples[1]!.url));
          const prediction = await clf.classify(await testing.blob(query));
          const badLabel = await testing.codeOf(async () => clf.addExample('', await testing.blob(query)));
          return { label: prediction.label, info: await clf.info(), badLabel };
        } finally {
          worker.terminate();
        }
      },
      { examples: [{ label: 'accordion', url: urlOf('accordion', 0) }, { label: 'brontosaurus', url: urlOf('brontosaurus', 0) }], query: urlOf('brontosaurus', 4), model: V2, wasmPaths: WASM_PATHS },
    );
    expect(result.label).toBe('brontosaurus');
    expect(result.info).toMatchObject({ backend: 'wasm', classes: 2, examples: 2 });
    expect(result.badLabel).toBe('INVALID_LABEL');
  });

  it('rejects connectWorker with INVALID_ARGUMENT when the worker script does not load, instead of waiting forever', async () => {
    const outcome = await page.evaluate(async () => {
      const worker = new Worker('/no-such-worker.js', { type: 'module' });
      try {
        await window.sdk.connectWorker(worker, { userId: 'no-worker' });
        return { settled: 'resolved' };
      } catch (err) {
        return { settled: 'rejected', code: (err as { code?: string }).code };
      } finally {
        worker.terminate();
      }
    }, undefined);
    expect(outcome).toEqual({ settled: 'rejected', code: 'INVALID_ARGUMENT' });
  });

  it('keeps a model URL query string (TF Hub style, as the official v1 URL has) on every weight file it fetches', async () => {
    server.requests.length = 0; // the server's log of what the browser fetched: the same in every engine
    const info = await page.evaluate(
      async ({ wasmPaths }) => {
        const model = { name: 'mobilenet_v1_025' as const, url: '/models/mobilenet_v1_025_224_graph/model.json?tfjs-format=file' };
        return (await window.sdk.createClassifier({ userId: 'query', backend: 'wasm', wasmPaths, model, cacheModel: false })).info();
      },
      { wasmPaths: WASM_PATHS },
    );
    expect(info).toMatchObject({ model: 'mobilenet_v1_025', dim: 256 });
    const modelFiles = server.requests.filter((u) => u.startsWith('/models/mobilenet_v1_025_224_graph/')).map((u) => u.split('/').pop());
    expect(modelFiles.sort()).toEqual(['group1-shard1of1?tfjs-format=file', 'model.json?tfjs-format=file']);
  });

  it(`without WebGPU, fails an explicit webgpu with BACKEND_UNAVAILABLE, and auto says it runs wasm`, async () => {
    // Chromium has WebGPU here (SwiftShader), so it needs a browser launched without it; the others have none.
    const plain = engine === 'chromium' ? await launchEngine(engine, { webgpu: false }) : browser;
    try {
      const fresh = await openTestPage(plain, server.url); // one backend per page
      const result = await fresh.evaluate(
        async ({ model, wasmPaths }) => {
          const { sdk, testing } = window;
          const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
          const adapter = gpu ? (await gpu.requestAdapter()) !== null : false;
          const explicit = await testing.codeOf(() => sdk.createClassifier({ userId: 'b', backend: 'webgpu', wasmPaths, model }));
          const auto = await sdk.createClassifier({ userId: 'b', backend: 'auto', wasmPaths, model });
          return { navigatorGpu: gpu !== undefined, adapter, explicit, auto: auto.info().backend };
        },
        { model: V2, wasmPaths: WASM_PATHS },
      );
      await fresh.close();
      expect(result).toEqual({ navigatorGpu: expected.navigatorGpu, adapter: false, explicit: 'BACKEND_UNAVAILABLE', auto: 'wasm' });
    } finally {
      if (plain !== browser) await plain.close();
    }
  });

  it('runs WASM on a cross-origin isolated page (COOP/COEP headers), with threads where the engine has them', async () => {
    const fresh = await openTestPage(browser, isolated.url);
    try {
      const result = await fresh.evaluate(
        async ({ examples, query, model, wasmPaths }) => {
          const { sdk, testing, tf } = window;
          const clf = await sdk.createClassifier({ userId: 'threads', backend: 'wasm', wasmPaths, model });
          for (const e of examples) await clf.addExample(e.label, await testing.blob(e.url));
          const prediction = await clf.classify(await testing.blob(query));
          const sharedArrayBuffer = typeof SharedArrayBuffer === 'function';
          return { isolated: crossOriginIsolated, sharedArrayBuffer, threads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'), backend: tf.getBackend(), label: prediction.label };
        },
        { examples: [{ label: 'anchor', url: urlOf('anchor', 0) }, { label: 'bass', url: urlOf('bass', 0) }], query: urlOf('anchor', 2), model: V2, wasmPaths: WASM_PATHS },
      );
      const threads = expected.wasmThreadsWhenIsolated; // tfjs needs SharedArrayBuffer for them
      expect(result).toEqual({ isolated: true, sharedArrayBuffer: threads, threads, backend: 'wasm', label: 'anchor' });
    } finally {
      await fresh.close();
    }
  });
});

// WebGPU only exists in Chromium here (SwiftShader, i.e. Vulkan on the CPU): Firefox ESR and WebKitGTK
// expose no navigator.gpu, which the test above asserts.
describe.each(ENGINES.filter((e) => e === 'chromium'))('WebGPU in %s (SwiftShader)', (engine) => {
  let browser: EngineBrowser;
  beforeAll(async () => {
    browser = await launchEngine(engine);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('computes the same embedding on WebGPU as on WASM (cosine >= 0.999)', async () => {
    const embed = async (backend: 'webgpu' | 'wasm') => {
      const fresh = await openTestPage(browser, server.url); // one backend per page
      try {
        return await fresh.evaluate(
          async ({ backend, url, model, wasmPaths }) => {
            const { sdk, testing, tf } = window;
            const clf = await sdk.createClassifier({ userId: `gpu-${backend}`, backend, wasmPaths, model, cacheModel: false });
            return { embedding: Array.from(await clf.embed(await testing.blob(url))), backend: tf.getBackend(), info: clf.info().backend };
          },
          { backend, url: urlOf('binocular', 2), model: V2, wasmPaths: WASM_PATHS },
        );
      } finally {
        await fresh.close();
      }
    };
    const gpu = await embed('webgpu');
    const wasm = await embed('wasm');
    expect([gpu.backend, gpu.info, wasm.backend]).toEqual(['webgpu', 'webgpu', 'wasm']);
    expect(cosine(gpu.embedding, wasm.embedding)).toBeGreaterThanOrEqual(0.999);
  });
});
