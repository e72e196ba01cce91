import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultModelDir } from '../node/model-files.js';
import { MODELS } from '../src/models.js';
import { CHROMIUM } from './browser-harness.js';
import { caltechDir, cliPath, omniglotDir } from './paths.js';

/** Fails fast, with the fix, when the real weights, images or build the tests run on are missing. */
export default function setup(): void {
  const modelDir = defaultModelDir();
  for (const spec of Object.values(MODELS)) {
    if (!existsSync(join(modelDir, spec.folder, 'model.json'))) {
      throw new Error(`No ${spec.name} weights in ${modelDir}: run \`npm run fetch-model -- --from ../shared/models\` or set FEWSHOT_MODEL_DIR.`);
    }
  }
  for (const dir of [caltechDir, omniglotDir]) {
    if (!existsSync(dir)) throw new Error(`No test images at ${dir}: set FEWSHOT_DATASETS to a folder laid out like ../shared/datasets.`);
  }
  if (!existsSync(cliPath)) throw new Error(`No built CLI at ${cliPath}: run \`npm run build\`.`);
  if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM} for the browser tests: \`apt-get install chromium\` (Debian's), or set CHROMIUM_PATH.`);
}
