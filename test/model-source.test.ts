import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultModelDir, loadNodeEmbedder, MODELS, WorkerPoolEmbedder } from '../node/index.js';
import { caltechDir } from './paths.js';

/** Self-hosted weights: the models folder served over HTTP on loopback, as an app would host them. */
describe('model weights from a URL (self-hosted, no hub)', () => {
  let server: Server;
  let base: string;
  const requests: string[] = [];

  beforeAll(async () => {
    const root = defaultModelDir();
    server = createServer((req, res) => {
      const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
      requests.push(req.url ?? '');
      if (!path.startsWith(root) || !existsSync(path)) {
        res.writeHead(404).end();
        return;
      }
      createReadStream(path).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('loads the model over HTTP, in this thread and in worker threads, with the same embeddings as from disk', async () => {
    const url = `${base}/${MODELS.mobilenet_v1_025.folder}/model.json`;
    const image = readFileSync(join(caltechDir, 'okapi', readdirSync(join(caltechDir, 'okapi')).sort()[0] as string));
    const fromDisk = await (await loadNodeEmbedder({ model: 'mobilenet_v1_025', workers: 0 })).embed(image);
    for (const workers of [0, 1]) {
      const embedder = await loadNodeEmbedder({ model: { name: 'mobilenet_v1_025', source: url }, workers });
      // A pool answers from this thread until its threads have loaded the model too: wait for them.
      if (embedder instanceof WorkerPoolEmbedder) await embedder.ready;
      const fromUrl = await embedder.embed(image);
      expect(Array.from(fromUrl)).toEqual(Array.from(fromDisk));
      embedder.dispose();
    }
    // In this thread, then for the pool in this thread (its stand-in while the threads start) and in its thread.
    expect(requests.filter((r) => r.includes('group1-shard1of1'))).toHaveLength(3);
  });

  it('answers MODEL_NOT_FOUND for a URL that serves nothing', async () => {
    const missing = { name: 'mobilenet_v1_025' as const, source: `${base}/nothing/model.json` };
    await expect(loadNodeEmbedder({ model: missing, workers: 0 })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });
});
