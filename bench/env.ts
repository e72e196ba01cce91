/**
 * Where the bench finds the repository, the model weights and the real images. Imported first by every
 * bench entry point (main and child processes) so they all resolve the same folders.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isModelName, type ModelName } from '../src/models.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * node/model-files.ts reads `FEWSHOT_MODEL_DIR`, else `<repo>/models`. On a fresh checkout neither exists,
 * so fall back to the workplace's vendored weights (`../shared/models`, same layout). Set on process.env
 * so the library and every child process see the same folder.
 */
export function ensureModelDir(): string {
  if (!process.env.FEWSHOT_MODEL_DIR && !existsSync(join(REPO_ROOT, 'models'))) {
    process.env.FEWSHOT_MODEL_DIR = resolve(REPO_ROOT, '..', 'shared', 'models');
  }
  return resolve(process.env.FEWSHOT_MODEL_DIR || join(REPO_ROOT, 'models'));
}

/** Folder laid out like /work/shared/datasets: `FEWSHOT_DATASETS`, default `<repo>/../shared/datasets`. */
export function datasetsDir(): string {
  return resolve(process.env.FEWSHOT_DATASETS || join(REPO_ROOT, '..', 'shared', 'datasets'));
}

export interface BenchImage {
  /** Caltech class folder, used as the label in addExample runs. */
  label: string;
  path: string;
  bytes: Uint8Array;
}

/**
 * Real Caltech-101 JPEGs: the first file (by name) of each of the first `count` classes (by name), so
 * every run and every child process uses the same pictures, all of different classes.
 */
export async function loadCaltechImages(count: number): Promise<BenchImage[]> {
  const root = join(datasetsDir(), 'caltech101', 'images');
  if (!existsSync(root)) {
    throw new Error(`No Caltech-101 images at ${root}: set FEWSHOT_DATASETS to a folder laid out like /work/shared/datasets.`);
  }
  const classes = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const picked: BenchImage[] = [];
  for (const label of classes.slice(0, count)) {
    const file = (await readdir(join(root, label))).filter((f) => f.endsWith('.jpg')).sort()[0];
    if (!file) continue;
    const path = join(root, label, file);
    picked.push({ label, path, bytes: new Uint8Array(await readFile(path)) });
  }
  if (picked.length < count) throw new Error(`Wanted ${count} Caltech images under ${root}, found ${picked.length}.`);
  return picked;
}

export function parseModel(name: string | undefined): ModelName {
  const model = name ?? 'mobilenet_v2_100';
  if (!isModelName(model)) throw new Error(`Unknown model "${model}": use mobilenet_v2_100, mobilenet_v1_025 or mobilenet_v3_small_075.`);
  return model;
}
