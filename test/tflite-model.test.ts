import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNodeEmbedder, MODELS, modelFolder, type Embedder } from '../node/index.js';
import { cosine } from './cosine.js';
import { caltechDir } from './paths.js';

const V3 = MODELS.mobilenet_v3_small_075;
const tflite = () => readFileSync(join(modelFolder('mobilenet_v3_small_075'), V3.file));
const photo = (cls: string, i = 0) => readFileSync(join(caltechDir, cls, readdirSync(join(caltechDir, cls)).sort()[i] as string));

/** MobileNetV3-Small read from its `.tflite` and run on tfjs ops (src/tflite/), in Node. */
describe('mobilenet_v3_small_075 (.tflite on tfjs-wasm)', () => {
  let embedder: Embedder;
  let server: Server;
  let base: string;
  /** Paths served: the real model file, and bad copies of it. */
  const files: Record<string, () => Buffer> = {
    '/good.tflite': tflite,
    '/cut.tflite': () => tflite().subarray(0, 1_500_000),
    '/model.json': () => readFileSync(join(modelFolder('mobilenet_v1_025'), 'model.json')),
    '/noise.tflite': () => Buffer.concat([Buffer.from([24, 0, 0, 0]), Buffer.from('TFL3'), Buffer.alloc(4096, 0xff)]),
  };

  beforeAll(async () => {
    embedder = await loadNodeEmbedder({ model: 'mobilenet_v3_small_075', workers: 0 });
    server = createServer((req, res) => {
      const body = files[req.url ?? '']?.();
      if (body) res.end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    embedder.dispose();
    await new Promise((resolve) => server.close(resolve));
  });

  it('embeds to 1024-d on wasm; a batch equals single images; the mirror image is close but not equal', async () => {
    expect(embedder.backend).toBe('wasm');
    const images = [photo('okapi'), photo('accordion'), photo('okapi', 1)];
    const batch = await embedder.embedBatch(images, { flip: false });
    const single = await embedder.embed(images[0]!, { flip: false });
    expect(batch[0]).toHaveLength(1024);
    expect(cosine(batch[0]!, single)).toBeGreaterThan(0.99999);
    // Two okapis are nearer to each other than an okapi to an accordion.
    expect(cosine(batch[0]!, batch[2]!)).toBeGreaterThan(cosine(batch[0]!, batch[1]!));
    const flipped = await embedder.embed(images[0]!, { flip: true });
    expect(cosine(flipped, single)).toBeGreaterThan(0.9);
    expect(cosine(flipped, single)).toBeLessThan(0.99999);
  });

  it('gives the same embeddings in worker threads and from a URL as from the folder in this thread', async () => {
    const image = photo('accordion');
    const here = await embedder.embed(image);
    const pooled = await loadNodeEmbedder({ model: 'mobilenet_v3_small_075', workers: 1 });
    const remote = await loadNodeEmbedder({ model: { name: 'mobilenet_v3_small_075', source: `${base}/good.tflite` }, workers: 0 });
    expect(cosine(await pooled.embed(image), here)).toBeGreaterThan(0.99999);
    expect(cosine(await remote.embed(image), here)).toBeGreaterThan(0.99999);
    pooled.dispose();
    remote.dispose();
  });

  it('refuses wrong, cut and missing model files with a clear error', async () => {
    const load = (source: string) => loadNodeEmbedder({ model: { name: 'mobilenet_v3_small_075', source }, workers: 0 });
    await expect(load(`${base}/cut.tflite`)).rejects.toMatchObject({ code: 'MODEL_MISMATCH', message: expect.stringContaining('cut short') });
    await expect(load(`${base}/model.json`)).rejects.toMatchObject({ code: 'MODEL_MISMATCH', message: expect.stringContaining('TFL3') });
    await expect(load(`${base}/noise.tflite`)).rejects.toMatchObject({ code: 'MODEL_MISMATCH' });
    await expect(load(`${base}/missing.tflite`)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND', message: expect.stringContaining('404') });
    // The folder of another model: no .tflite in it.
    await expect(load(modelFolder('mobilenet_v1_025'))).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND', message: expect.stringContaining(V3.file) });
    // The .tflite given to a TF.js model.
    await expect(loadNodeEmbedder({ model: { name: 'mobilenet_v1_025', source: `${base}/good.tflite` }, workers: 0 })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });
});
