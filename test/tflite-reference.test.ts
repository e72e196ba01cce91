import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, INPUT_SIZE, loadNodeEmbedder, MODELS, modelFolder, type Embedder } from '../node/index.js';
import { cosine } from './cosine.js';
import { datasetsDir } from './paths.js';
import { startLitert, type LitertReference } from './reference/litert.js';

const V3 = MODELS.mobilenet_v3_small_075;
const PER_DOMAIN = 3;
const MIN_COSINE = 0.999;

/**
 * `PER_DOMAIN` images of each dataset, spread evenly over its files sorted by path (so every run picks the
 * same ones, from different classes).
 */
function sampleImages(): string[] {
  const domains = readdirSync(datasetsDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  return domains.flatMap((domain) => {
    const root = join(datasetsDir, domain, 'images');
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
    return Array.from({ length: PER_DOMAIN }, (_, k) => join(root, files[Math.floor(((k + 0.5) * files.length) / PER_DOMAIN)] as string));
  });
}

/**
 * The 224x224 RGB our pipeline feeds the network (src/embedder.ts `resized`: decodeImage, then bilinear with
 * alignCorners=true unless already 224x224), as 0..255 floats. Caller disposes.
 */
function pipelinePixels(bytes: Uint8Array): tf.Tensor3D {
  const { data, width, height } = decodeImage(bytes);
  return tf.tidy(() => {
    const image = tf.tensor3d(data, [height, width, 3], 'float32');
    return width === INPUT_SIZE && height === INPUT_SIZE ? image : tf.image.resizeBilinear(image, [INPUT_SIZE, INPUT_SIZE], true);
  });
}

/**
 * mobilenet_v3_small_075 (our .tflite reader on tfjs-wasm, src/tflite/) against Google's @litertjs/core
 * running the same file, on real images of all seven development domains. LiteRT gets exactly the pixels
 * our pipeline produces, scaled to [0, 1], so the cosines compare the networks, not resizers.
 */
describe('mobilenet_v3_small_075 against @litertjs/core (independent reference)', () => {
  const files = sampleImages();
  let ours: Embedder;
  let litert: LitertReference;

  beforeAll(async () => {
    // LiteRT compiles in its own thread while ours loads here. Ours runs in this thread (workers: 0), so the
    // test can hand it the very pixels LiteRT gets; the pool's threads run the same code (tflite-model.test.ts).
    [ours, litert] = await Promise.all([
      loadNodeEmbedder({ model: 'mobilenet_v3_small_075', workers: 0 }),
      startLitert(join(modelFolder('mobilenet_v3_small_075'), V3.file)),
    ]);
  });
  afterAll(async () => {
    ours?.dispose();
    await litert?.close();
  });

  it(`matches on ${PER_DOMAIN} images of each of the 7 domains with cosine >= ${MIN_COSINE}`, async () => {
    expect(files).toHaveLength(7 * PER_DOMAIN);
    expect(ours.backend).toBe('wasm');
    const rows: { file: string; cosine: number }[] = [];
    for (const file of files) {
      const bytes = new Uint8Array(readFileSync(file));
      const pixels = pipelinePixels(bytes);
      const unit = tf.tidy(() => tf.div(pixels, 255));
      const [reference] = (await litert.run([(await unit.data()) as Float32Array], [1, INPUT_SIZE, INPUT_SIZE, 3])).outputs;
      unit.dispose();
      const embedding = await ours.embed(bytes, { flip: false });
      // These pixels are the ones the pipeline made from the bytes: the same embedding to the last bit.
      expect(await ours.embed(pixels, { flip: false })).toEqual(embedding);
      pixels.dispose();
      expect(reference).toHaveLength(V3.dim);
      rows.push({ file: relative(datasetsDir, file), cosine: cosine(embedding, reference!) });
    }
    const worst = rows.reduce((a, b) => (b.cosine < a.cosine ? b : a));
    console.log(
      `mobilenet_v3_small_075 vs ${litert.engine}: ${rows.length} images, ${new Set(rows.map((r) => r.file.split('/')[0])).size} domains; ` +
        `min cosine ${worst.cosine.toFixed(9)} (1 - ${(1 - worst.cosine).toExponential(2)}) on ${worst.file}`,
    );
    for (const r of rows) expect(r.cosine, r.file).toBeGreaterThanOrEqual(MIN_COSINE);
  });
});
