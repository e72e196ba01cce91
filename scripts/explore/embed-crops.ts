// Exploration: embeds five crops (4 corners + centre, each `scale` of the width and height) of every development image.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scanImageClasses } from '../../node/dataset.js';
import { EmbeddingCache, embedFiles } from '../../node/embedding-cache.js';
import { loadNodeEmbedder } from '../../node/index.js';
import { MODELS, type ModelName } from '../../src/models.js';
import { decodeImage, type RgbImage } from '../../src/pixels.js';
import { datasetsDir, defaultCacheDir, DEV_DOMAINS } from '../dev-data.js';
const model = process.argv[2] as ModelName;
const scale = Number(process.argv[3] ?? 0.8);
const positions = (process.argv[4] ?? 'c,tl,tr,bl,br').split(',');
const files = Object.values(DEV_DOMAINS).flatMap((dir) => scanImageClasses(join(datasetsDir(), dir)).slice(0, 200).flatMap((c) => c.items));
function crop(img: RgbImage, pos: string): RgbImage {
  const w = Math.max(1, Math.round(img.width * scale)), h = Math.max(1, Math.round(img.height * scale));
  const x0 = pos.includes('l') ? 0 : pos.includes('r') ? img.width - w : Math.floor((img.width - w) / 2);
  const y0 = pos.includes('t') ? 0 : pos.includes('b') ? img.height - h : Math.floor((img.height - h) / 2);
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + w) * 3), y * w * 3);
  return { data, width: w, height: h };
}
const embedder = await loadNodeEmbedder({ model, workers: 2 });
for (const pos of positions) {
  const cache = await EmbeddingCache.open(defaultCacheDir(), `${model}@${MODELS[model].version}+crop${scale * 100}-${pos}`, MODELS[model].dim);
  const t0 = performance.now();
  for (let i = 0; i < files.length; i += 256) {
    await embedFiles(embedder, files.slice(i, i + 256), cache, async (p) => crop(decodeImage(await readFile(p)), pos));
    if (i % 2048 === 0) { await cache.save(); console.error(model, pos, i, ((performance.now() - t0) / 1000).toFixed(0), 's'); }
  }
  await cache.save();
}
embedder.dispose();
process.exit(0);
