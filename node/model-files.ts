import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { FewshotError } from '../src/errors.js';
import { MODELS, type ModelName } from '../src/models.js';

/** The package root: two levels up from both `node/` (sources run by tsx) and `dist/node/` (built). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/**
 * Folder that holds one sub-folder per model (laid out like `../shared/models`): `FEWSHOT_MODEL_DIR`
 * when set, else the package's own `models/`, which `npm run fetch-model` fills.
 */
export function defaultModelDir(): string {
  return resolve(process.env.FEWSHOT_MODEL_DIR || join(packageRoot(), 'models'));
}

/** The folder of one model's files inside a models directory. */
export function modelFolder(model: ModelName, modelDir = defaultModelDir()): string {
  return join(modelDir, MODELS[model].folder);
}

/**
 * A `tf.io.IOHandler` that reads `model.json` and its weight shards from a local folder (file:// URLs need
 * tfjs-node, which we do not use).
 * @throws FewshotError `MODEL_NOT_FOUND` (when loaded) if the folder has no model.json or misses a shard.
 */
export function fileModelSource(folder: string): tf.io.IOHandler {
  return {
    load: async () => {
      const manifestPath = join(folder, 'model.json');
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(await readFile(manifestPath, 'utf8')) as tf.io.ModelJSON;
      } catch (cause) {
        throw new FewshotError(
          'MODEL_NOT_FOUND',
          `No readable model at ${manifestPath}. Run \`npm run fetch-model\` (or set FEWSHOT_MODEL_DIR to a folder of models).`,
          { cause },
        );
      }
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const shards = await Promise.all(
          manifest.flatMap((group) => group.paths).map((path) => readFile(join(folder, path))),
        );
        const joined = Buffer.concat(shards);
        return [specs, joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength)];
      });
    },
  };
}
