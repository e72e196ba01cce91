import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, loadNodeEmbedder, type Embedder } from '../node/index.js';
import { AUGMENT_CROPS } from '../src/embedder.js';
import { caltechDir } from './paths.js';

const cosine = (a: Float32Array, b: Float32Array) => {
  let d = 0, na = 0, nb = 0;
  a.forEach((x, i) => ((d += x * b[i]!), (na += x * x), (nb += b[i]! ** 2)));
  return d / Math.sqrt(na * nb);
};

/**
 * `augment` (the embedding stored examples get) is the mean of the whole image and five crops, each with its
 * mirror image: checked against cropping by hand and embedding each view with `flip`.
 */
describe('augmented embeddings of stored examples', () => {
  let embedder: Embedder;
  beforeAll(async () => {
    embedder = await loadNodeEmbedder({ model: 'mobilenet_v3_small_075', workers: 0 });
  });
  afterAll(() => embedder.dispose());

  it('equal the mean of the six views embedded one by one, each with its mirror image', async () => {
    const file = join(caltechDir, 'anchor', readdirSync(join(caltechDir, 'anchor')).sort()[2] as string);
    const rgb = decodeImage(readFileSync(file));
    // 251 x 251: every crop edge (0.1, 0.2, 0.8, 0.9 of 250) falls on a pixel, so a slice is the same crop.
    const image = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(rgb.data, [rgb.height, rgb.width, 3], 'float32'), [251, 251], true));
    const views = [[0, 0, 1, 1], ...AUGMENT_CROPS].map(([top, left, bottom, right]) =>
      tf.slice(image, [top! * 250, left! * 250, 0], [(bottom! - top!) * 250 + 1, (right! - left!) * 250 + 1, 3]),
    );
    const each = await embedder.embedBatch(views as tf.Tensor3D[], { flip: true });
    const expected = each[0]!.map((_, d) => each.reduce((s, v) => s + v[d]!, 0) / each.length);
    const [augmented] = await embedder.embedBatch([image], { augment: true });
    expect(cosine(augmented!, expected)).toBeGreaterThan(0.9999);
    // Not the flip embedding of the whole image: the crops count.
    const [whole] = await embedder.embedBatch([image], { flip: true });
    expect(cosine(augmented!, whole!)).toBeLessThan(0.999);
    tf.dispose([image, ...views]);
  });

  it('leaves no tensor behind, and refuses a bad image without embedding anything', async () => {
    const before = tf.memory().numTensors;
    await embedder.embedBatch([readFileSync(join(caltechDir, 'anchor', readdirSync(join(caltechDir, 'anchor')).sort()[0] as string))], { augment: true });
    expect(tf.memory().numTensors).toBe(before);
    await expect(embedder.embedBatch([new Uint8Array([0xff, 0xd8, 0xff, 0x00])], { augment: true })).rejects.toMatchObject({ code: 'INVALID_IMAGE' });
    expect(tf.memory().numTensors).toBe(before);
  });
});
