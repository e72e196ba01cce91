/** Where the development data and the embedding cache live, shared by the research and evaluation scripts. */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { scanImageClasses } from '../node/dataset.js';

/** `FEWSHOT_DATASETS`, or `../shared/datasets` beside the repository. */
export function datasetsDir(): string {
  return resolve(process.env.FEWSHOT_DATASETS || join(import.meta.dirname, '..', '..', 'shared', 'datasets'));
}

/** `FEWSHOT_CACHE`, or `.fewshot/cache` in the repository (gitignored). */
export function defaultCacheDir(): string {
  return resolve(process.env.FEWSHOT_CACHE || join(import.meta.dirname, '..', '.fewshot', 'cache'));
}

/** The development datasets that the calibration and the variants were chosen on, as folders of class folders. */
export const DEV_SETS = {
  caltech101: 'caltech101',
  omniglot_background: join('omniglot', 'background_images'),
  omniglot_evaluation: 'omniglot',
} as const;

/**
 * The seven development domains of `../shared/datasets` (its README.md), one folder each, keyed by the short
 * name of their `docs/eval/<model>-<name>.json`: the per-domain table of docs/accuracy-tables.md. Omniglot
 * counts once, by its complete evaluation set.
 */
export const DEV_DOMAINS = {
  caltech101: 'caltech101',
  omniglot_evaluation: 'omniglot',
  gtsrb_traffic_signs: 'gtsrb_traffic_signs',
  dtd10_textures: 'dtd10_textures',
  pbc_blood_cells: 'pbc_blood_cells',
  plant_seedlings: 'plant_seedlings',
  sign_language_digits: 'sign_language_digits',
} as const;

/** Every development image: the class folders of each set and domain, and the official Omniglot one-shot runs. */
export function developmentImages(root: string): string[] {
  const dirs = [...new Set([...Object.values(DEV_DOMAINS), ...Object.values(DEV_SETS)])];
  const files = dirs.flatMap((dir) => scanImageClasses(join(root, dir)).flatMap((c) => c.items));
  const runs = join(root, 'omniglot', 'one_shot_runs');
  for (const run of readdirSync(runs).sort()) {
    for (const part of ['training', 'test']) {
      files.push(...readdirSync(join(runs, run, part)).sort().map((f) => join(runs, run, part, f)));
    }
  }
  return files;
}
