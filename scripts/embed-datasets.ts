/**
 * Embeds every development image once per model and variant into the persistent embedding cache, so the
 * evaluation and research scripts (`fewshot eval --cache`, `scripts/variants.ts`) run in seconds afterwards.
 * `flip` embeds the horizontally mirrored image (for flip averaging).
 *
 *   npx tsx scripts/embed-datasets.ts [--model mobilenet_v2_100,mobilenet_v1_025] [--variants plain,flip]
 *     [--sets caltech101,omniglot,...]   (only these folders of the datasets; default every development image)
 *     [--max-classes 200]                (with --sets: the first N classes of each, as scripts/lodo.ts reads them)
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isModelName, MODELS } from '../src/models.js';
import { decodeImage, mirrorImage } from '../src/pixels.js';
import { developmentImages, defaultCacheDir, datasetsDir } from './dev-data.js';
import { scanImageClasses } from '../node/dataset.js';
import { EmbeddingCache, embedFiles } from '../node/embedding-cache.js';
import { loadNodeEmbedder } from '../node/index.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'mobilenet_v1_025,mobilenet_v2_100' },
    variants: { type: 'string', default: 'plain,flip' },
    sets: { type: 'string' },
    'max-classes': { type: 'string' },
  },
});
const log = (line: string) => process.stderr.write(`${line}\n`);

const files = values.sets
  ? values.sets.split(',').flatMap((dir) =>
      scanImageClasses(join(datasetsDir(), dir))
        .slice(0, Number(values['max-classes'] ?? Infinity))
        .flatMap((c) => c.items),
    )
  : developmentImages(datasetsDir());
log(`${files.length} development images`);
for (const model of (values.model as string).split(',')) {
  if (!isModelName(model)) throw new Error(`unknown model ${model}`);
  const embedder = await loadNodeEmbedder({ model });
  for (const variant of (values.variants as string).split(',')) {
    const cache = await EmbeddingCache.open(defaultCacheDir(), `${model}@${MODELS[model].version}${variant === 'flip' ? '+flip' : ''}`, MODELS[model].dim);
    const started = performance.now();
    for (let i = 0; i < files.length; i += 256) {
      const chunk = files.slice(i, i + 256);
      await embedFiles(embedder, chunk, cache, variant === 'flip' ? async (p) => mirrorImage(decodeImage(await readFile(p))) : undefined);
      if (i % 2048 === 0) {
        await cache.save();
        log(`${model} ${variant}: ${Math.min(i + 256, files.length)}/${files.length} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
      }
    }
    await cache.save();
    log(`${model} ${variant}: done, ${cache.size} cached`);
  }
  embedder.dispose();
}
process.exit(0);
