import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSource } from '../src/embedder.js';
import { FewshotError } from '../src/errors.js';
import { tfliteArtifacts } from '../src/model-source.js';
import { MODELS, type ModelName } from '../src/models.js';
import { defaultModelDir } from './model-dir.js';

export { defaultModelDir } from './model-dir.js';

/** The folder of one model's files inside a models directory. */
export function modelFolder(model: ModelName, modelDir = defaultModelDir()): string {
  return join(modelDir, MODELS[model].folder);
}

/** What a model name and a source string (a folder, or an http(s) URL, passed as it is) load from. */
export function localModelSource(model: ModelName, source: string): ModelSource {
  return /^https?:\/\//.test(source) ? source : fileModelSource(source, MODELS[model].file);
}

/**
 * A `tf.io.IOHandler` that reads a model from a local folder (file:// URLs need tfjs-node, which we do not
 * use): `model.json` and its weight shards, or with `file` ending in `.tflite`, that one file.
 * @throws FewshotError `MODEL_NOT_FOUND` (when loaded) if the folder has no such file or misses a shard.
 */
export function fileModelSource(folder: string, file = 'model.json'): tf.io.IOHandler {
  if (file.endsWith('.tflite')) {
    return {
      load: async () => {
        const bytes = await readFile(join(folder, file)).catch((cause: unknown) => {
          throw notFound(join(folder, file), cause);
        });
        return tfliteArtifacts(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
      },
    };
  }
  return {
    load: async () => {
      const manifestPath = join(folder, 'model.json');
      let modelJson: tf.io.ModelJSON;
      try {
        modelJson = JSON.parse(await readFile(manifestPath, 'utf8')) as tf.io.ModelJSON;
      } catch (cause) {
        throw notFound(manifestPath, cause);
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

function notFound(path: string, cause: unknown): FewshotError {
  return new FewshotError(
    'MODEL_NOT_FOUND',
    `No readable model at ${path}. \`npx fewshot fetch-model\` puts the models in ${defaultModelDir()} (\`--from <folder>\` copies a local copy), or set FEWSHOT_MODEL_DIR to a folder of models.`,
    { cause },
  );
}
