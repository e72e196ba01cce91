import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelDir } from '../node/model-files.js';
import { launchPersistent, openTestPage, startPageServer, startStaticServer, WASM_PATHS } from './browser-harness.js';
import { caltechDir } from './paths.js';

const filesOf = (label: string) => readdirSync(join(caltechDir, label)).sort();
const urlOf = (label: string, index: number) => `/datasets/caltech101/images/${label}/${filesOf(label)[index]}`;
const V2 = { name: 'mobilenet_v2_100' as const, url: '/models/mobilenet_v2_100_224_feature/model.json' };

/** What a user's classifier holds, opened fresh on `page`. */
function classesOf(page: Page, userId: string, model = V2) {
  return page.evaluate(
    async ({ userId, model, wasmPaths }) => {
      const clf = await window.sdk.createClassifier({ userId, backend: 'wasm', wasmPaths, model });
      return clf.listClasses();
    },
    { userId, model, wasmPaths: WASM_PATHS },
  );
}

function addExamples(page: Page, userId: string, examples: { label: string; url: string }[], model = V2) {
  return page.evaluate(
    async ({ userId, examples, model, wasmPaths }) => {
      const clf = await window.sdk.createClassifier({ userId, backend: 'wasm', wasmPaths, model });
      for (const e of examples) await clf.addExample(e.label, await window.testing.blob(e.url));
    },
    { userId, examples, model, wasmPaths: WASM_PATHS },
  );
}

describe('browser persistence in a real Chromium profile (IndexedDB)', () => {
  let server: Awaited<ReturnType<typeof startPageServer>>;
  const profiles: string[] = [];
  const profile = () => {
    const dir = mkdtempSync(join(tmpdir(), 'fewshot-chromium-'));
    profiles.push(dir);
    return dir;
  };

  beforeAll(async () => {
    server = await startPageServer();
  });
  afterAll(async () => {
    await server?.server.close();
    for (const dir of profiles) rmSync(dir, { recursive: true, force: true });
  });

  it("keeps each user's classes across a reload and a browser restart, and never shows one user's to another", async () => {
    const dir = profile();
    let context: BrowserContext = await launchPersistent(dir);
    try {
      const page = await openTestPage(context, server.url);
      await addExamples(page, 'alice', [
        { label: 'accordion', url: urlOf('accordion', 0) },
        { label: 'anchor', url: urlOf('anchor', 0) },
      ]);
      await addExamples(page, 'bob', [{ label: 'bass', url: urlOf('bass', 0) }]);
      await page.reload();
      await page.waitForFunction(() => window.sdkReady === true);
      expect(await classesOf(page, 'alice')).toEqual([
        { label: 'accordion', count: 1 },
        { label: 'anchor', count: 1 },
      ]);
      expect(await classesOf(page, 'bob')).toEqual([{ label: 'bass', count: 1 }]);
      await context.close();

      context = await launchPersistent(dir);
      const restarted = await openTestPage(context, server.url);
      expect(await classesOf(restarted, 'alice')).toEqual([
        { label: 'accordion', count: 1 },
        { label: 'anchor', count: 1 },
      ]);
      expect(await classesOf(restarted, 'bob')).toEqual([{ label: 'bass', count: 1 }]);
      expect(await classesOf(restarted, 'carol')).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("shows one tab the examples another tab of the same user adds, and not another user's", async () => {
    const context = await launchPersistent(profile());
    try {
      const [first, second] = [await openTestPage(context, server.url), await openTestPage(context, server.url)];
      await first.evaluate(
        async ({ model, wasmPaths }) => {
          const w = window as unknown as { seen: number[]; alice: Awaited<ReturnType<typeof window.sdk.createClassifier>> };
          w.seen = [];
          w.alice = await window.sdk.createClassifier({ userId: 'alice', backend: 'wasm', wasmPaths, model, onChange: () => w.seen.push(w.alice.info().examples) });
          // Another user in the same tab: the other tab's change must not reach it.
          await window.sdk.createClassifier({ userId: 'bob', backend: 'wasm', wasmPaths, model, onChange: () => w.seen.push(-1) });
        },
        { model: V2, wasmPaths: WASM_PATHS },
      );
      await addExamples(second, 'alice', [{ label: 'binocular', url: urlOf('binocular', 0) }]);
      await first.waitForFunction(() => (window as unknown as { seen: number[] }).seen.length > 0, undefined, { timeout: 30_000 });
      const state = await first.evaluate(() => {
        const w = window as unknown as { seen: number[]; alice: { listClasses(): unknown } };
        return { seen: w.seen, classes: w.alice.listClasses() };
      });
      expect(state).toEqual({ seen: [1], classes: [{ label: 'binocular', count: 1 }] });
    } finally {
      await context.close();
    }
  });

  it('starts and classifies offline from the cached model after one online load; a new model version needs the network', async () => {
    const modelServer = await startStaticServer(defaultModelDir(), { cors: true });
    const model = { name: 'mobilenet_v2_100' as const, url: `${modelServer.url}/mobilenet_v2_100_224_feature/model.json` };
    const dir = profile();
    let context = await launchPersistent(dir);
    try {
      const online = await openTestPage(context, server.url);
      await addExamples(online, 'offline-user', [
        { label: 'accordion', url: urlOf('accordion', 0) },
        { label: 'brontosaurus', url: urlOf('brontosaurus', 0) },
      ], model);
      await context.close();
      await modelServer.close();

      context = await launchPersistent(dir);
      const offline = await openTestPage(context, server.url);
      const result = await offline.evaluate(
        async ({ model, query, wasmPaths }) => {
          const { sdk, testing } = window;
          const reachable = await fetch(model.url).then(() => true, () => false);
          const clf = await sdk.createClassifier({ userId: 'offline-user', backend: 'wasm', wasmPaths, model });
          const prediction = await clf.classify(await testing.blob(query));
          const newVersion = await testing.codeOf(() => sdk.createClassifier({ userId: 'offline-user', backend: 'wasm', wasmPaths, model: { ...model, version: 'next' } }));
          return { reachable, label: prediction.label, newVersion };
        },
        { model, query: urlOf('brontosaurus', 3), wasmPaths: WASM_PATHS },
      );
      expect(result).toEqual({ reachable: false, label: 'brontosaurus', newVersion: 'MODEL_NOT_FOUND' });
    } finally {
      await context.close();
      await modelServer.close().catch(() => undefined);
    }
  });

  it('turns a full disk into QUOTA_EXCEEDED and stores nothing of the batch, keeping what was there', async () => {
    const context = await launchPersistent(profile());
    try {
      const page = await openTestPage(context, server.url);
      await addExamples(page, 'full', [{ label: 'anchor', url: urlOf('anchor', 0) }]);
      const result = await page.evaluate(
        async ({ urls, model, wasmPaths }) => {
          const { sdk, testing } = window;
          const clf = await sdk.createClassifier({ userId: 'full', backend: 'wasm', wasmPaths, model });
          const images = await Promise.all(urls.map((u) => testing.blob(u)));
          // SIMULATED FAULT: the disk fills up at the second example of the batch. A real quota cannot be
          // reached here: Chromium enforces IndexedDB quota (even one set by DevTools' overrideQuotaForOrigin)
          // on large values only, and an example is 5 KB.
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
      await page.waitForFunction(() => window.sdkReady === true);
      expect(await classesOf(page, 'full')).toEqual([{ label: 'anchor', count: 1 }]);
    } finally {
      await context.close();
    }
  });
});
