// The acceptance flow every consumer fixture runs in the page, copied beside each fixture's main.js by
// test/consumer/fixtures.ts. Plain browser JavaScript: it gets the SDK's functions from the fixture, so
// the only imports of fewshot-edge are the fixture's own (as an app would write them).

const TIMED_OUT = Symbol('timed out');

/**
 * Puts `window.fixture.run` on the page. `open(options)` opens a classifier (createClassifier, or
 * connectWorker on a new worker); `isFewshotError` tells the SDK's own errors apart.
 */
export function exposeFixture({ open, isFewshotError }) {
  window.fixture = {
    ready: true,
    /**
     * Opens `userId`'s classifier of `modelName` (served at `modelUrl`) with the default backend, waiting at
     * most `timeoutMs` for it to settle, then adds `examples` (as <img> elements) and classifies `queries`
     * (as Blobs). Never throws: the test reads what happened from the report.
     */
    async run({ userId, modelName, modelUrl, examples, queries, timeoutMs }) {
      const report = { settled: false, openMs: 0, examplesMs: 0, queriesMs: 0, error: null, crossOriginIsolated: globalThis.crossOriginIsolated === true, before: null, after: null, predictions: [] };
      const started = performance.now();
      let clf;
      try {
        const outcome = await Promise.race([
          open({ userId, model: { name: modelName, url: modelUrl } }),
          new Promise((resolve) => setTimeout(() => resolve(TIMED_OUT), timeoutMs)),
        ]);
        report.openMs = Math.round(performance.now() - started);
        if (outcome === TIMED_OUT) return report;
        report.settled = true;
        clf = outcome;
      } catch (err) {
        report.openMs = Math.round(performance.now() - started);
        report.settled = true;
        report.error = describe('createClassifier', err, isFewshotError);
        return report;
      }
      let stage = 'info';
      try {
        report.before = await clf.info();
        let mark = performance.now();
        for (const { label, url } of examples) {
          stage = `addExample ${url}`;
          await clf.addExample(label, await loadImage(url));
        }
        report.examplesMs = Math.round(performance.now() - mark);
        mark = performance.now();
        for (const { label, url } of queries) {
          stage = `classify ${url}`;
          const prediction = await clf.classify(await loadBlob(url));
          report.predictions.push({ url, expected: label, label: prediction.label, confidence: prediction.confidence });
        }
        report.queriesMs = Math.round(performance.now() - mark);
        report.after = await clf.info();
      } catch (err) {
        report.error = describe(stage, err, isFewshotError);
      }
      return report;
    },
  };
}

function describe(stage, err, isFewshotError) {
  return { stage, name: err?.name ?? typeof err, code: err?.code ?? null, fewshot: isFewshotError(err), message: String(err?.message ?? err) };
}

async function loadImage(url) {
  const img = new Image();
  img.src = url;
  await img.decode();
  return img;
}

async function loadBlob(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.blob();
}
