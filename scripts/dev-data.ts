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

/** The development datasets as folders of class folders. */
export const DEV_SETS = {
  caltech101: 'caltech101',
  omniglot_background: join('omniglot', 'background_images'),
  omniglot_evaluation: 'omniglot',
} as const;

/** Every development image: the class folders of each set and the official Omniglot one-shot runs. */
export function developmentImages(root: string): string[] {
  const files = Object.values(DEV_SETS).flatMap((dir) => scanImageClasses(join(root, dir)).flatMap((c) => c.items));
  const runs = join(root, 'omniglot', 'one_shot_runs');
  for (const run of readdirSync(runs).sort()) {
    for (const part of ['training', 'test']) {
      files.push(...readdirSync(join(runs, run, part)).sort().map((f) => join(runs, run, part, f)));
    }
  }
  return files;
}
