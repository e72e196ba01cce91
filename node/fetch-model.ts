/**
 * `fewshot fetch-model`: puts model folders (`<out>/<folder>/model.json` and its shards, or the model's
 * `.tflite` file) where they are needed.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FewshotError } from '../src/errors.js';
import { MODELS, type ModelName, type ModelSpec } from '../src/models.js';
import { describeCause, DownloadError } from './download.js';
import { originOf, type ModelOrigin } from './model-origins.js';
import { shardGroups } from './weights-manifest.js';

export interface FetchOptions {
  models: readonly ModelName[];
  /** Where to write: one sub-folder per model, named as in `src/models.ts`. */
  out: string;
  /**
   * Where to read from instead of the official URLs: a local folder laid out like `../shared/models`, or
   * the http(s) URL of a mirror serving such folders.
   */
  from?: string;
  /** Limit per downloaded file (default 120 s). */
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** What one model's fetch wrote. */
export interface FetchedModel {
  model: ModelName;
  /** The model's folder: `<out>/<spec.folder>`. */
  dir: string;
  files: number;
  bytes: number;
}

/**
 * Puts each model's files (`model.json` and its weight shards, or the `.tflite`) into `out/<folder>`, from
 * the official URLs or from `from`. A model is read whole and checked (valid JSON, every shard, the byte
 * counts model.json implies; a `.tflite` by its SHA-256) before anything is written, and the model's own
 * file is written last, so a failure never leaves a model that looks complete.
 * @throws FewshotError `MODEL_NOT_FOUND` naming the URL or path, the cause and what to do instead.
 */
export async function fetchModels(options: FetchOptions): Promise<FetchedModel[]> {
  const origin = originOf(options.from, options.timeoutMs);
  const fetched: FetchedModel[] = [];
  for (const name of options.models) {
    const spec = MODELS[name];
    const files = await readModel(origin, spec, options);
    const dir = join(options.out, spec.folder);
    await writeModel(dir, spec, files);
    const bytes = [...files.values()].reduce((n, b) => n + b.length, 0);
    fetched.push({ model: name, dir, files: files.size, bytes });
    options.log?.(`${name}: ${files.size} files, ${(bytes / 2 ** 20).toFixed(1)} MiB -> ${dir}`);
  }
  return fetched;
}

/** All files of one model, keyed by name, the model's own file last; `SOURCE.md` too when a folder has one. */
async function readModel(origin: ModelOrigin, spec: ModelSpec, options: FetchOptions): Promise<Map<string, Buffer>> {
  const get = async (file: string) => {
    try {
      return await origin.read(spec, file);
    } catch (err) {
      throw failure(origin, spec, file, err, options);
    }
  };
  const files = new Map<string, Buffer>();
  if (origin.kind === 'folder') {
    const source = await origin.read(spec, 'SOURCE.md').catch(() => undefined); // provenance, when there is one
    if (source) files.set('SOURCE.md', source);
  }
  if (spec.format === 'tflite') {
    const model = await get(spec.file);
    const sha256 = createHash('sha256').update(model).digest('hex');
    if (spec.sha256 && sha256 !== spec.sha256) {
      const reason = new Error(`its SHA-256 is ${sha256}, the official file's is ${spec.sha256}: cut short, or not this model`);
      throw failure(origin, spec, spec.file, reason, options);
    }
    return files.set(spec.file, model);
  }
  const manifest = await get('model.json');
  let groups;
  try {
    groups = shardGroups(JSON.parse(manifest.toString('utf8')));
  } catch (err) {
    throw failure(origin, spec, 'model.json', new Error(`not a TF.js model.json (${(err as Error).message})`), options);
  }
  for (const group of groups) {
    let bytes = 0;
    for (const path of group.paths) {
      const shard = await get(path);
      files.set(path, shard);
      bytes += shard.length;
    }
    // A server that closes early while claiming a shorter length gives no transport error: count instead.
    if (group.bytes !== null && bytes !== group.bytes) {
      const reason = new Error(`${group.paths.join(' + ')}: ${bytes} bytes where model.json says ${group.bytes}, so the files are cut short or not this model's`);
      throw failure(origin, spec, group.paths[0] as string, reason, options);
    }
  }
  files.set('model.json', manifest);
  return files;
}

/** Writes the files under temporary names, renaming each when complete; the model's own file goes last. */
async function writeModel(dir: string, spec: ModelSpec, files: Map<string, Buffer>): Promise<void> {
  await mkdir(dir, { recursive: true });
  // An older model.json must not vouch for shards while they are being replaced.
  await rm(join(dir, spec.file), { force: true });
  for (const [file, bytes] of files) {
    const path = join(dir, file);
    await mkdir(dirname(path), { recursive: true }); // shard paths may name sub-folders
    await writeFile(`${path}.partial`, bytes);
    await rename(`${path}.partial`, path);
  }
}

/** What to do when downloads fail: the folder layout `--from` takes, and the mirror alternative. */
const offlineHint = (spec: ModelSpec) =>
  'Offline or behind a firewall? Copy the models from a folder laid out like the official one ' +
  `(<folder>/${layout(spec)}) with \`fetch-model --from <folder>\`, or from a mirror serving such folders with \`--from <url>\`.`;

/** A model folder's contents, in words. */
const layout = (spec: ModelSpec) => (spec.format === 'tflite' ? `${spec.folder}/${spec.file}` : `${spec.folder}/model.json and its shards`);

/** A DownloadError's message already says why; other errors say it through their causes. */
const reasonOf = (err: unknown) => (err instanceof DownloadError ? err.message : describeCause(err));

/** The error for one file that could not be read, in words that say what to do. */
function failure(origin: ModelOrigin, spec: ModelSpec, file: string, err: unknown, options: FetchOptions): FewshotError {
  const where = origin.locate(spec, file);
  if (origin.kind === 'url') {
    return new FewshotError('MODEL_NOT_FOUND', `Could not download ${where} (${spec.name}): ${reasonOf(err)}. ${offlineHint(spec)}`, { cause: err });
  }
  const missing = (err as NodeJS.ErrnoException)?.code === 'ENOENT';
  if (missing && !existsSync(options.from as string)) {
    return new FewshotError('MODEL_NOT_FOUND', `--from ${options.from}: no such folder. It takes a folder laid out like the official one (${layout(spec)}) or a mirror's http(s) URL.`, { cause: err });
  }
  if (missing && file === spec.file) {
    const others = options.models.length > 1 ? ' To copy only one model, pick it with --model NAME.' : '';
    return new FewshotError(
      'MODEL_NOT_FOUND',
      `No ${spec.name} model in ${options.from}: ${where} does not exist. --from needs a folder laid out like the official one, ` +
        `with one sub-folder per model (${layout(spec)}).${others}`,
      { cause: err },
    );
  }
  const reason = missing ? 'the file is missing, but model.json names it' : reasonOf(err);
  return new FewshotError('MODEL_NOT_FOUND', `Cannot copy ${spec.name} from ${where}: ${reason}.`, { cause: err });
}
