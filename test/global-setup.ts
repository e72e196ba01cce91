import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultModelDir } from '../node/model-files.js';
import { MODELS } from '../src/models.js';
import { ENGINES, missingEngineTools } from './engines.js';
import { caltechDir, cliPath, omniglotDir } from './paths.js';

/** Fails fast, with the fix, when the real weights, images or build the tests run on are missing. */
export default function setup(): void {
  const modelDir = defaultModelDir();
  for (const spec of Object.values(MODELS)) {
    if (!existsSync(join(modelDir, spec.folder, spec.file))) {
      throw new Error(`No ${spec.name} weights in ${modelDir}: run \`npm run fetch-model -- --from ../shared/models\` or set FEWSHOT_MODEL_DIR.`);
    }
  }
  for (const dir of [caltechDir, omniglotDir]) {
    if (!existsSync(dir)) throw new Error(`No test images at ${dir}: set FEWSHOT_DATASETS to a folder laid out like ../shared/datasets.`);
  }
  if (!existsSync(cliPath)) throw new Error(`No built CLI at ${cliPath}: run \`npm run build\`.`);
  // The SDK's browser tests run in every engine of ENGINES (FEWSHOT_ENGINES narrows it for a local run);
  // the demo and bundle tests always use Chromium.
  const missing = missingEngineTools(['chromium', ...ENGINES]);
  if (missing.length) throw new Error(`The browser tests cannot start:\n  ${missing.join('\n  ')}`);
}
