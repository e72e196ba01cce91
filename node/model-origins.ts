/** Where `fetch-model` reads model files from: the official URLs, a mirror URL, or a local folder. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelSpec } from '../src/models.js';
import { download } from './download.js';

/** A place holding model folders laid out like the official one (`<folder>/model.json` and its shards, or `<folder>/<name>.tflite`). */
export interface ModelOrigin {
  /** `url`: read over HTTP (failures are `DownloadError`s); `folder`: read from disk (fs errors). */
  readonly kind: 'url' | 'folder';
  /** The URL or path of one of a model's files, for reading and for messages. */
  locate(spec: ModelSpec, file: string): string;
  read(spec: ModelSpec, file: string): Promise<Buffer>;
}

/** True for the `--from` values that name a mirror rather than a folder. */
export const isHttpUrl = (from: string): boolean => /^https?:\/\//i.test(from);

function urlOrigin(locate: (spec: ModelSpec, file: string) => string, timeoutMs?: number): ModelOrigin {
  return { kind: 'url', locate, read: (spec, file) => download(locate(spec, file), timeoutMs) };
}

/** The official URLs of `src/models.ts` (Google's storage and TF Hub): shards sit beside `model.json`. */
export function officialOrigin(timeoutMs?: number): ModelOrigin {
  return urlOrigin((spec, file) => new URL(file, spec.officialUrl).href + spec.officialQuery, timeoutMs);
}

/** A web server holding model folders, e.g. `https://host/models/` serving `mobilenet_v2_100_224_feature/model.json`. */
export function mirrorOrigin(baseUrl: string, timeoutMs?: number): ModelOrigin {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return urlOrigin((spec, file) => new URL(`${spec.folder}/${file}`, base).href, timeoutMs);
}

/** A local folder laid out like the official one (`../shared/models`, or another `--out` folder). */
export function folderOrigin(dir: string): ModelOrigin {
  const locate = (spec: ModelSpec, file: string) => join(dir, spec.folder, file);
  return { kind: 'folder', locate, read: (spec, file) => readFile(locate(spec, file)) };
}

/** The origin a `--from` value names: none means the official URLs. */
export function originOf(from: string | undefined, timeoutMs?: number): ModelOrigin {
  if (from === undefined) return officialOrigin(timeoutMs);
  return isHttpUrl(from) ? mirrorOrigin(from, timeoutMs) : folderOrigin(from);
}
