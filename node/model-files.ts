import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { FewshotError } from '../src/errors.js';
import { MODELS, type ModelName } from '../src/models.js';
import { defaultModelDir } from './model-dir.js';

export { defaultModelDir } from './model-dir.js';

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
          `No readable model at ${manifestPath}. \`npx fewshot fetch-model\` puts the models in ${defaultModelDir()} (\`--from <folder>\` copies a local copy), or set FEWSHOT_MODEL_DIR to a folder of models.`,
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
