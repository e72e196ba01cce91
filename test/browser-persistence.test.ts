import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelDir } from '../node/model-files.js';
import type { ModelName } from '../src/models.js';
import { openTestPage, startPageServer, startStaticServer, waitForSdk, WASM_PATHS } from './browser-harness.js';
import { ENGINES, launchEngine, PERSISTENT_PROFILES, type EngineBrowser, type EngineName, type EnginePage } from './engines.js';
import { caltechDir } from './paths.js';

const filesOf = (label: string) => readdirSync(join(caltechDir, label)).sort();
const urlOf = (label: string, index: number) => `/datasets/caltech101/images/${label}/${filesOf(label)[index]}`;
const V2 = { name: 'mobilenet_v2_100' as const, url: '/models/mobilenet_v2_100_224_feature/model.json' };
type Model = { name: ModelName; url: string };

/** What a user's classifier holds, opened fresh on `page`. */
function classesOf(page: EnginePage, userId: string, model: Model = V2) {
  return page.evaluate(
    async ({ userId, model, wasmPaths }) => {
      const clf = await window.sdk.createClassifier({ userId, backend: 'wasm', wasmPaths, model });
      return clf.listClasses();
    },
    { userId, model, wasmPaths: WASM_PATHS },
  );
}

function addExamples(page: EnginePage, userId: string, examples: { label: string; url: string }[], model: Model = V2) {
  return page.evaluate(
    async ({ userId, examples, model, wasmPaths }) => {
      const clf = await window.sdk.createClassifier({ userId, backend: 'wasm', wasmPaths, model });
      for (const e of examples) await clf.addExample(e.label, await window.testing.blob(e.url));
    },
    { userId, examples, model, wasmPaths: WASM_PATHS },
  );
}

let server: Awaited<ReturnType<typeof startPageServer>>;
beforeAll(async () => {
  server = await startPageServer();
});
afterAll(async () => {
  await server?.server.close();
});

/**
 * One browser per engine on one profile folder for the whole file (users differ per test). `restart()`
 * closes it and opens the same profile again: a real restart in Chromium and Firefox; WebKitGTK's
 * MiniBrowser keeps WebDriver sessions in an ephemeral store, so there it is a new, empty session.
 */
describe.each(ENGINES)('browser persistence in %s (IndexedDB)', (engine: EngineName) => {
  const persistent = PERSISTENT_PROFILES[engine];
  let profileDir: string;
  let browser: EngineBrowser | undefined;
  const launch = () => launchEngine(engine, persistent ? { profileDir } : {});
  const restart = async () => {
    await browser?.close();
    browser = undefined;
    browser = await launch();
    return browser;
  };

  beforeAll(async () => {
    profileDir = mkdtempSync(join(tmpdir(), `fewshot-${engine}-`));
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(profileDir, { recursive: true, force: true });
  });

  it(`keeps each user's classes across a reload${persistent ? ' and a browser restart' : ' (not a restart: no persistent profile)'}, and never shows one user's to another`, async () => {
    const page = await openTestPage(browser!, server.url);
    await addExamples(page, 'alice', [
      { label: 'accordion', url: urlOf('accordion', 0) },
      { label: 'anchor', url: urlOf('anchor', 0) },
    ]);
    await addExamples(page, 'bob', [{ label: 'bass', url: urlOf('bass', 0) }]);
    await page.reload();
    await waitForSdk(page);
    const alice = [
      { label: 'accordion', count: 1 },
      { label: 'anchor', count: 1 },
    ];
    expect(await classesOf(page, 'alice')).toEqual(alice);
    expect(await classesOf(page, 'bob')).toEqual([{ label: 'bass', count: 1 }]);
    expect(await classesOf(page, 'carol')).toEqual([]);

    const restarted = await openTestPage(await restart(), server.url);
    // Asserted either way, so a WebKitGTK that starts keeping automation data shows up here.
    expect(await classesOf(restarted, 'alice')).toEqual(persistent ? alice : []);
    expect(await classesOf(restarted, 'bob')).toEqual(persistent ? [{ label: 'bass', count: 1 }] : []);
    await restarted.close();
  });

  it("shows one tab the examples another tab of the same user adds, and not another user's", async () => {
    const [first, second] = [await openTestPage(browser!, server.url), await openTestPage(browser!, server.url)];
    await first.evaluate(
      async ({ model, wasmPaths }) => {
        const w = window as unknown as { seen: number[]; alice: Awaited<ReturnType<typeof window.sdk.createClassifier>> };
        w.seen = [];
        w.alice = await window.sdk.createClassifier({ userId: 'tab-alice', backend: 'wasm', wasmPaths, model, onChange: () => w.seen.push(w.alice.info().examples) });
        // Another user in the same tab: the other tab's change must not reach it.
        await window.sdk.createClassifier({ userId: 'tab-bob', backend: 'wasm', wasmPaths, model, onChange: () => w.seen.push(-1) });
      },
      { model: V2, wasmPaths: WASM_PATHS },
    );
    await addExamples(second, 'tab-alice', [{ label: 'binocular', url: urlOf('binocular', 0) }]);
    await first.waitFor(() => (window as unknown as { seen: number[] }).seen.length > 0, 30_000);
    const state = await first.evaluate(() => {
      const w = window as unknown as { seen: number[]; alice: { listClasses(): unknown } };
      return { seen: w.seen, classes: w.alice.listClasses() };
    });
    expect(state).toEqual({ seen: [1], classes: [{ label: 'binocular', count: 1 }] });
    await second.close();
    await first.close();
  });

  it(`starts and classifies offline from the cached model (v2's shards, v3's .tflite) after one online load${persistent ? ' (after a browser restart)' : ' (after a reload)'}; a new model version needs the network`, async () => {
    const modelServer = await startStaticServer(defaultModelDir(), { cors: true });
    const model = { name: 'mobilenet_v2_100' as const, url: `${modelServer.url}/mobilenet_v2_100_224_feature/model.json` };
    // A .tflite travels as tfjs model artifacts (format 'tflite'), so the same IndexedDB cache carries it.
    const v3 = { name: 'mobilenet_v3_small_075' as const, url: `${modelServer.url}/mobilenet_v3_small_075_embedder/mobilenet_v3_small.tflite` };
    const examples = [
      { label: 'accordion', url: urlOf('accordion', 0) },
      { label: 'brontosaurus', url: urlOf('brontosaurus', 0) },
    ];
    try {
      let page = await openTestPage(browser!, server.url);
      await addExamples(page, 'offline-user', examples, model);
      await addExamples(page, 'offline-v3', examples, v3);
      await modelServer.close();
      if (persistent) {
        page = await openTestPage(await restart(), server.url);
      } else {
        await page.reload(); // a new page context: the SDK's in-memory model is gone, IndexedDB is not
        await waitForSdk(page);
      }
      const result = await page.evaluate(
        async ({ model, v3, query, wasmPaths }) => {
          const { sdk, testing, tf } = window;
          const reachable = await fetch(model.url).then(() => true, () => false);
          const reachableV3 = await fetch(v3.url).then(() => true, () => false);
          const clf = await sdk.createClassifier({ userId: 'offline-user', backend: 'wasm', wasmPaths, model });
          const prediction = await clf.classify(await testing.blob(query));
          const v3Classifier = await sdk.createClassifier({ userId: 'offline-v3', backend: 'wasm', wasmPaths, model: v3 });
          const v3Prediction = await v3Classifier.classify(await testing.blob(query));
          const cached = Object.keys(await tf.io.listModels()).map((key) => key.replace(/@.*/, '')).sort();
          const newVersion = await testing.codeOf(() => sdk.createClassifier({ userId: 'offline-user', backend: 'wasm', wasmPaths, model: { ...model, version: 'next' } }));
          return { reachable: reachable || reachableV3, label: prediction.label, v3: { label: v3Prediction.label, info: v3Classifier.info() }, cached, newVersion };
        },
        { model, v3, query: urlOf('brontosaurus', 3), wasmPaths: WASM_PATHS },
      );
      expect(result).toMatchObject({
        reachable: false,
        label: 'brontosaurus',
        v3: { label: 'brontosaurus', info: { model: 'mobilenet_v3_small_075', dim: 1024, classes: 2 } },
        cached: ['indexeddb://fewshot-edge-model/mobilenet_v2_100', 'indexeddb://fewshot-edge-model/mobilenet_v3_small_075'],
        newVersion: 'MODEL_NOT_FOUND',
      });
      await page.close();
    } finally {
      await modelServer.close().catch(() => undefined);
    }
  });

  it('turns a full disk into QUOTA_EXCEEDED and stores nothing of the batch, keeping what was there', async () => {
    const page = await openTestPage(browser!, server.url);
    await addExamples(page, 'full', [{ label: 'anchor', url: urlOf('anchor', 0) }]);
    const result = await page.evaluate(
      async ({ urls, model, wasmPaths }) => {
        const { sdk, testing } = window;
        const clf = await sdk.createClassifier({ userId: 'full', backend: 'wasm', wasmPaths, model });
        const images = await Promise.all(urls.map((u) => testing.blob(u)));
        // SIMULATED FAULT: the disk fills up at the second example of the batch. A real quota cannot be
        // reached here: Chromium enforces IndexedDB quota (even one set by DevTools' overrideQuotaForOrigin)
        // on large values only, and an example is 5 KB; the other engines have no quota override at all.
        const put = IDBObjectStore.prototype.put;
        let calls = 0;
        IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
          if (++calls === 2) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          return put.apply(this, args);
        };
        const code = await testing.codeOf(() => clf.addExamples('bass', images));
        IDBObjectStore.prototype.put = put;
        return { code, calls, classes: clf.listClasses() };
      },
      { urls: [0, 1, 2].map((i) => urlOf('bass', i)), model: V2, wasmPaths: WASM_PATHS },
    );
    expect(result).toEqual({ code: 'QUOTA_EXCEEDED', calls: 2, classes: [{ label: 'anchor', count: 1 }] });
    // What IndexedDB really holds, read by a fresh page: the first example of the failed batch was rolled back.
    await page.reload();
    await waitForSdk(page);
    expect(await classesOf(page, 'full')).toEqual([{ label: 'anchor', count: 1 }]);
    await page.close();
  });
});
