import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FewshotError } from '../src/errors.js';
import { MODELS, type ModelName } from '../src/models.js';

export interface FetchOptions {
  models: readonly ModelName[];
  /** Where to write: one sub-folder per model. */
  dest: string;
  /** Copy from a local folder laid out like `../shared/models` instead of downloading. */
  from?: string;
  log?: (line: string) => void;
}

/** The shard paths a `model.json` names. */
function shardPaths(modelJson: unknown): string[] {
  const manifest = (modelJson as { weightsManifest?: { paths: string[] }[] }).weightsManifest;
  if (!Array.isArray(manifest)) throw new FewshotError('MODEL_NOT_FOUND', 'model.json has no weightsManifest.');
  return manifest.flatMap((group) => group.paths);
}

/**
 * Puts each model's `model.json` and weight shards into `dest/<folder>`: downloaded from the official
 * URL, or copied from `from/<folder>`. Files land under a temporary name first, so an interrupted fetch
 * never leaves a half-written model that looks complete.
 */
export async function fetchModels(options: FetchOptions): Promise<void> {
  const log = options.log ?? (() => undefined);
  for (const name of options.models) {
    const spec = MODELS[name];
    const target = join(options.dest, spec.folder);
    await mkdir(target, { recursive: true });
    const read = options.from
      ? (file: string) => readFile(join(options.from as string, spec.folder, file))
      : async (file: string) => {
          const url = new URL(file, spec.officialUrl).href + spec.officialQuery;
          const response = await fetch(url);
          if (!response.ok) throw new FewshotError('MODEL_NOT_FOUND', `GET ${url} answered ${response.status}.`);
          return Buffer.from(await response.arrayBuffer());
        };
    let total = 0;
    const manifest = await read('model.json');
    const files = shardPaths(JSON.parse(manifest.toString('utf8')));
    for (const file of files) {
      const bytes = await read(file);
      total += bytes.length;
      await writeFile(join(target, `${file}.partial`), bytes);
      await rename(join(target, `${file}.partial`), join(target, file));
    }
    // model.json last: its presence means every shard it names is in place.
    await writeFile(join(target, 'model.json.partial'), manifest);
    await rename(join(target, 'model.json.partial'), join(target, 'model.json'));
    if (options.from) await copyFile(join(options.from, spec.folder, 'SOURCE.md'), join(target, 'SOURCE.md')).catch(() => undefined);
    log(`${name}: ${files.length + 1} files, ${(total / 2 ** 20).toFixed(1)} MiB -> ${target}`);
  }
}
