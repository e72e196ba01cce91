import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClassifier, decodeImage, loadNodeEmbedder, MemoryStore, type FewShotClassifier } from '../node/index.js';
import { MODELS } from '../src/models.js';
import { mirrorImage } from '../src/pixels.js';
import { codeOfAsync } from './errors.js';
import { caltechDir } from './paths.js';

/** Five Caltech-101 classes; image 0 of each is the single example, the other 29 are held out. */
const CLASSES = ['accordion', 'anchor', 'bass', 'binocular', 'brontosaurus'];
const filesOf = (label: string) => readdirSync(join(caltechDir, label)).sort().map((f) => join(caltechDir, label, f));
const bytes = (path: string) => readFileSync(path);

async function learnOneShot(clf: FewShotClassifier): Promise<void> {
  for (const label of CLASSES) await clf.addExample(label, bytes(filesOf(label)[0] as string));
}

describe('few-shot classifier on real MobileNet weights and real images', () => {
  let clf: FewShotClassifier;

  beforeAll(async () => {
    // In this thread (workers: 0) so tensors and tf.memory() are visible here; worker-pool.test.ts covers the pool.
    clf = await createClassifier({ userId: 'alice', store: new MemoryStore(), workers: 0 });
    await learnOneShot(clf);
  });

  it('runs on the wasm backend, never a silent cpu fallback', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(clf.info()).toMatchObject({ backend: 'wasm', model: 'mobilenet_v2_100', dim: 1280, classes: 5, examples: 5 });
  });

  it('classifies held-out images correctly after one example per class (5-way 1-shot)', async () => {
    const heldOut = CLASSES.flatMap((label) => filesOf(label).slice(1).map((path) => ({ label, path })));
    const predictions = await clf.classifyMany(heldOut.map((h) => bytes(h.path)));
    const accuracy = predictions.filter((p, i) => p.label === heldOut[i]!.label).length / heldOut.length;
    // Measured 0.883 (128/145) on these files with the default head (0.862 plain); chance is 0.2. The margin allows a changed resize or
    // decoder, not a broken embedder or head.
    expect(accuracy).toBeGreaterThanOrEqual(0.78);
    for (const p of predictions) {
      expect(p.scores).toHaveLength(5);
      expect(p.confidence).toBe(p.scores[0]!.score);
    }
    // "unknown" is on by default, with a threshold that rejects at most 8% of known queries on average over
    // development episodes (docs/ACCURACY.md); one fixed set of five classes can be above that.
    const falseUnknown = predictions.filter((p) => p.unknown).length / predictions.length;
    expect(falseUnknown).toBeLessThanOrEqual(0.15);
    // Confidence means something: right answers are, on average, more confident than wrong ones.
    const right = predictions.filter((p, i) => p.label === heldOut[i]!.label).map((p) => p.confidence);
    const wrong = predictions.filter((p, i) => p.label !== heldOut[i]!.label).map((p) => p.confidence);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    if (wrong.length > 0) expect(mean(right)).toBeGreaterThan(mean(wrong));
  });

  it('answers "unknown" for images of classes it was never taught far more often once classes have five examples', async () => {
    // With one example per class the threshold is the model's constant, set to keep false "unknown" within 10%
    // on every development domain, so it seldom fires (docs/ACCURACY.md). From two examples on, it adapts:
    // it sits under the similarities of the user's own held-out examples.
    const five = await createClassifier({ userId: 'carol', store: new MemoryStore(), workers: 0 });
    for (const label of CLASSES) for (const path of filesOf(label).slice(0, 5)) await five.addExample(label, bytes(path));
    const taught = new Set<string>(CLASSES);
    const others = readdirSync(caltechDir).filter((c) => !taught.has(c)).sort();
    const strangers = await five.classifyMany(others.flatMap((c) => filesOf(c).slice(0, 3)).map(bytes));
    const caught = strangers.filter((p) => p.unknown).length / strangers.length;
    const known = await five.classifyMany(CLASSES.flatMap((label) => filesOf(label).slice(5, 15)).map(bytes));
    const falseUnknown = known.filter((p) => p.unknown).length / known.length;
    // Measured 0.34 with five examples on these classes; with one example (the model's constant) almost none.
    const oneShot = await clf.classifyMany(others.flatMap((c) => filesOf(c).slice(0, 3)).map(bytes));
    const caughtAtOneShot = oneShot.filter((p) => p.unknown).length / oneShot.length;
    expect(caught).toBeGreaterThan(0.25);
    expect(caught).toBeGreaterThan(caughtAtOneShot + 0.2);
    expect(falseUnknown).toBeLessThanOrEqual(0.2);
    // The threshold in force is reported, fitted (not the model's constant), and is what decided every answer.
    const { unknownThreshold, heldOut } = five.info().calibration;
    expect(unknownThreshold).not.toBe(MODELS.mobilenet_v2_100.unknownThreshold);
    expect(heldOut).toBe(CLASSES.length * 5); // every stored example, each scored with itself left out
    expect(clf.info().calibration.heldOut).toBe(0); // one example per class: the model's constants
    for (const p of [...strangers, ...known]) expect(p.unknown).toBe(p.similarity < unknownThreshold!);
  });

  it('gives the same answer for encoded bytes, raw pixels and a tensor of the same image', async () => {
    const path = filesOf('anchor')[3] as string;
    const { decodeImage } = await import('../src/pixels.js');
    const rgb = decodeImage(bytes(path));
    const tensor = tf.tensor3d(rgb.data, [rgb.height, rgb.width, 3], 'int32');
    const [a, b, c] = [await clf.embed(bytes(path)), await clf.embed(rgb), await clf.embed(tensor)];
    tensor.dispose();
    expect(Array.from(b)).toEqual(Array.from(a));
    const cos = (x: Float32Array, y: Float32Array) => {
      let d = 0, nx = 0, ny = 0;
      x.forEach((v, i) => ((d += v * y[i]!), (nx += v * v), (ny += y[i]! ** 2)));
      return d / Math.sqrt(nx * ny);
    };
    expect(cos(a, c)).toBeGreaterThan(0.99999);
  });

  it('batched embedding equals one-at-a-time embedding', async () => {
    const paths = filesOf('bass').slice(1, 6);
    const embedder = await loadNodeEmbedder({ workers: 0 });
    // With flips the network sees 4 images and their mirrors per call: 4 + 1 is a full batch and a partial one.
    const batch = await embedder.embedBatch(paths.map(bytes), { flip: true });
    expect(batch).toHaveLength(paths.length);
    for (let i = 0; i < paths.length; i++) {
      const single = await embedder.embed(bytes(paths[i]!), { flip: true });
      const diff = Math.max(...single.map((v, d) => Math.abs(v - batch[i]![d]!)));
      expect(diff).toBeLessThan(1e-4);
    }
  });

  it('a flip embedding is the mean of the image and its mirror image', async () => {
    const embedder = await loadNodeEmbedder({ workers: 0 });
    const image = decodeImage(bytes(filesOf('bass')[0]!));
    const [plain, mirrored] = await embedder.embedBatch([image, mirrorImage(image)]);
    const flipped = await embedder.embed(image, { flip: true });
    const diff = Math.max(...flipped.map((v, d) => Math.abs(v - (plain![d]! + mirrored![d]!) / 2)));
    expect(diff).toBeLessThan(1e-4);
    // And it is not the plain embedding (the photo is not symmetric).
    expect(Math.max(...flipped.map((v, d) => Math.abs(v - plain![d]!)))).toBeGreaterThan(1e-2);
  });

  it('rejects bad labels and bad images with their codes and loses nothing', async () => {
    const before = clf.listClasses();
    const good = bytes(filesOf('anchor')[1] as string);
    expect(await codeOfAsync(() => clf.addExample('', good))).toBe('INVALID_LABEL');
    expect(await codeOfAsync(() => clf.addExample('x'.repeat(101), good))).toBe('INVALID_LABEL');
    expect(await codeOfAsync(() => clf.addExample(7 as unknown as string, good))).toBe('INVALID_LABEL');
    expect(await codeOfAsync(() => clf.addExample('ok', good.subarray(0, 900)))).toBe('INVALID_IMAGE');
    expect(await codeOfAsync(() => clf.addExample('ok', new Uint8Array(0)))).toBe('INVALID_IMAGE');
    expect(await codeOfAsync(() => clf.addExample('ok', 'okapi.jpg' as unknown as Uint8Array))).toBe('INVALID_IMAGE');
    // One bad image in a batch stores none of the batch.
    expect(await codeOfAsync(() => clf.addExamples('ok', [good, new Uint8Array([1, 2, 3])]))).toBe('INVALID_IMAGE');
    expect(await codeOfAsync(() => clf.addEmbedding('ok', new Float32Array(1280).fill(Number.NaN)))).toBe('INVALID_EMBEDDING');
    expect(await codeOfAsync(() => clf.addEmbedding('ok', new Float32Array(256).fill(1)))).toBe('MODEL_MISMATCH');
    expect(await codeOfAsync(() => clf.removeClass('no such class'))).toBe('NOT_FOUND');
    expect(clf.listClasses()).toEqual(before);
  });

  it('answers NO_CLASSES before the first example', async () => {
    const empty = await createClassifier({ userId: 'nobody', store: new MemoryStore() });
    expect(await codeOfAsync(() => empty.classify(bytes(filesOf('bass')[0] as string)))).toBe('NO_CLASSES');
  });

  it('keeps users apart in one store and moves classes between users by export/import', async () => {
    const store = new MemoryStore();
    const alice = await createClassifier({ userId: 'alice', store });
    const bob = await createClassifier({ userId: 'bob', store });
    await alice.addExample('anchor', bytes(filesOf('anchor')[0] as string));
    expect(bob.listClasses()).toEqual([]);
    expect((await createClassifier({ userId: 'bob', store })).listClasses()).toEqual([]);
    const doc = await alice.export();
    expect(await bob.import(JSON.stringify(doc))).toBe(1);
    expect(await bob.import(doc)).toBe(0); // same ids: importing twice adds nothing
    expect(bob.listClasses()).toEqual([{ label: 'anchor', count: 1 }]);
    expect((await bob.classify(bytes(filesOf('anchor')[5] as string))).label).toBe('anchor');
  });

  it('refuses to open a store of another model, and to import its export', async () => {
    const store = new MemoryStore();
    const small = await createClassifier({ userId: 'carol', store, model: 'mobilenet_v1_025' });
    expect(small.info()).toMatchObject({ model: 'mobilenet_v1_025', dim: 256, backend: 'wasm' });
    await small.addExample('bass', bytes(filesOf('bass')[0] as string));
    expect(await codeOfAsync(() => createClassifier({ userId: 'carol', store }))).toBe('MODEL_MISMATCH');
    const big = await createClassifier({ userId: 'dave', store });
    expect(await codeOfAsync(async () => big.import(await small.export()))).toBe('MODEL_MISMATCH');
    expect(big.listClasses()).toEqual([]);
    expect((await store.list('carol'))).toHaveLength(1);
  });

  it('leaks no tensor over 200 add/classify calls', async () => {
    const small = await createClassifier({ userId: 'leak', store: new MemoryStore(), model: 'mobilenet_v1_025', workers: 0 });
    const images = CLASSES.map((label) => bytes(filesOf(label)[2] as string));
    await small.addExample('warm', images[0]!);
    await small.classify(images[1]!);
    const baseline = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) {
      await small.addExample(CLASSES[i % 5]!, images[i % 5]!);
      await small.classify(images[(i + 1) % 5]!);
    }
    await codeOfAsync(() => small.classify(new Uint8Array([0xff, 0xd8, 0xff, 0, 1]))); // failures must not leak either
    expect(tf.memory().numTensors).toBe(baseline);
    const big = await createClassifier({ userId: 'leak', store: new MemoryStore(), workers: 0 });
    await big.addExample('warm', images[0]!);
    const bigBaseline = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) {
      await big.addExample(CLASSES[i % 5]!, images[i % 5]!);
      await big.classify(images[(i + 1) % 5]!);
    }
    expect(tf.memory().numTensors).toBe(bigBaseline);
  });
});
