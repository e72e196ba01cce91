import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClassifier, MemoryStore } from '../node/index.js';
import { launchBrowser, openTestPage, startPageServer, startStaticServer, WASM_PATHS } from './browser-harness.js';
import { cosine } from './cosine.js';
import { caltechDir } from './paths.js';

const CLASSES = ['accordion', 'anchor', 'bass', 'binocular', 'brontosaurus'];
const filesOf = (label: string) => readdirSync(join(caltechDir, label)).sort();
const urlOf = (label: string, index: number) => `/datasets/caltech101/images/${label}/${filesOf(label)[index]}`;
const V2 = { name: 'mobilenet_v2_100' as const, url: '/models/mobilenet_v2_100_224_feature/model.json' };

describe('browser SDK in Debian Chromium, real weights and images', () => {
  let server: Awaited<ReturnType<typeof startPageServer>>;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    server = await startPageServer();
    browser = await launchBrowser();
    page = await openTestPage(browser, server.url);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.server.close();
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
    expect(result.simd).toBe(true);
    expect(result.info).toMatchObject({ backend: 'wasm', model: 'mobilenet_v2_100', dim: 1280, classes: 5, examples: 5 });
    // Node gives 128/145 on these files (classifier.test.ts); the browser decodes JPEG with its own decoder.
    console.log(`browser 5-way 1-shot: ${result.correct}/${heldOut.length}`);
    expect(result.correct / heldOut.length).toBeGreaterThanOrEqual(0.78);
  });

  it('embeds every kind of page image alike: Blob, <img>, <canvas>, OffscreenCanvas, ImageBitmap, ImageData, <video>, bytes', async () => {
    const cosines = await page.evaluate(
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
        // A <video> showing the canvas, as a webcam <video> shows the camera.
        const video = document.createElement('video');
        video.muted = true;
        video.srcObject = canvas.captureStream();
        await video.play();
        while (video.readyState < 2 || video.videoWidth === 0) await new Promise((r) => setTimeout(r, 20));
        const reference = await clf.embed(blob);
        const kinds: Record<string, unknown> = {
          img,
          canvas,
          offscreen,
          bitmap: await createImageBitmap(blob),
          imageData,
          video,
          bytes: new Uint8Array(await blob.arrayBuffer()),
        };
        const out: Record<string, number> = {};
        for (const [kind, input] of Object.entries(kinds)) out[kind] = testing.cosine(reference, await clf.embed(input as Blob));
        return out;
      },
      { url: urlOf('bass', 3), model: V2, wasmPaths: WASM_PATHS },
    );
    for (const kind of ['img', 'canvas', 'offscreen', 'bitmap', 'imageData']) expect([kind, cosines[kind]! > 0.9999]).toEqual([kind, true]);
    // The video frame goes through a video encoder; the bytes through jpeg-js instead of the browser's decoder.
    expect(cosines.video).toBeGreaterThan(0.95);
    expect(cosines.bytes).toBeGreaterThan(0.99);
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
            truncated: await testing.codeOf(async () => clf.addExample('x', (await testing.blob(url)).slice(0, 600))),
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
        truncated: 'INVALID_IMAGE',
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

  it('keeps a model URL query string (TF Hub style, as the official v1 URL has) on every weight file it fetches', async () => {
    const requested: string[] = [];
    const record = (request: { url(): string }) => requested.push(request.url());
    page.on('request', record);
    try {
      const info = await page.evaluate(
        async ({ wasmPaths }) => {
          const model = { name: 'mobilenet_v1_025' as const, url: '/models/mobilenet_v1_025_224_graph/model.json?tfjs-format=file' };
          return (await window.sdk.createClassifier({ userId: 'query', backend: 'wasm', wasmPaths, model, cacheModel: false })).info();
        },
        { wasmPaths: WASM_PATHS },
      );
      expect(info).toMatchObject({ model: 'mobilenet_v1_025', dim: 256 });
    } finally {
      page.off('request', record);
    }
    const modelFiles = requested.filter((u) => u.includes('/models/mobilenet_v1_025_224_graph/')).map((u) => new URL(u).pathname.split('/').pop() + new URL(u).search);
    expect(modelFiles.sort()).toEqual(['group1-shard1of1?tfjs-format=file', 'model.json?tfjs-format=file']);
  });

  it('computes the same embedding on WebGPU (SwiftShader) as on WASM (cosine >= 0.999)', async () => {
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

describe('backends in a Chromium without WebGPU', () => {
  let server: Awaited<ReturnType<typeof startPageServer>>;
  let browser: Browser;

  beforeAll(async () => {
    server = await startPageServer();
    browser = await launchBrowser({ webgpu: false });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.server.close();
  });

  it('fails an explicit webgpu with BACKEND_UNAVAILABLE, and auto says it runs wasm', async () => {
    const page = await openTestPage(browser, server.url);
    const result = await page.evaluate(
      async ({ model, wasmPaths }) => {
        const { sdk, testing } = window;
        const explicit = await testing.codeOf(() => sdk.createClassifier({ userId: 'b', backend: 'webgpu', wasmPaths, model }));
        const auto = await sdk.createClassifier({ userId: 'b', backend: 'auto', wasmPaths, model });
        return { explicit, auto: auto.info().backend };
      },
      { model: V2, wasmPaths: WASM_PATHS },
    );
    expect(result).toEqual({ explicit: 'BACKEND_UNAVAILABLE', auto: 'wasm' });
  });
});

describe('WASM threads on a cross-origin isolated page (COOP/COEP headers)', () => {
  let server: Awaited<ReturnType<typeof startPageServer>>;
  let browser: Browser;

  beforeAll(async () => {
    server = await startPageServer({ crossOriginIsolated: true });
    browser = await launchBrowser({ webgpu: false });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.server.close();
  });

  it('runs the multithreaded WASM build and classifies', async () => {
    const page = await openTestPage(browser, server.url);
    const result = await page.evaluate(
      async ({ examples, query, model, wasmPaths }) => {
        const { sdk, testing, tf } = window;
        const clf = await sdk.createClassifier({ userId: 'threads', backend: 'wasm', wasmPaths, model });
        for (const e of examples) await clf.addExample(e.label, await testing.blob(e.url));
        const prediction = await clf.classify(await testing.blob(query));
        return { isolated: crossOriginIsolated, threads: tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'), backend: tf.getBackend(), label: prediction.label };
      },
      { examples: [{ label: 'anchor', url: urlOf('anchor', 0) }, { label: 'bass', url: urlOf('bass', 0) }], query: urlOf('anchor', 2), model: V2, wasmPaths: WASM_PATHS },
    );
    expect(result).toEqual({ isolated: true, threads: true, backend: 'wasm', label: 'anchor' });
  });
});
