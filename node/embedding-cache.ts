import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Embedder } from '../src/embedder.js';

interface Entry {
  row: number;
  size: number;
  mtimeMs: number;
  /** SHA-256 of the file's bytes (absent in caches written before it was kept). */
  sha256?: string;
}

async function fileHash(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/**
 * Embeddings of image files kept on disk between runs, so `fewshot eval` and the research scripts embed
 * each dataset image once per model version. One cache per key (model, version, variant): `<key>.json`
 * maps absolute paths (with size, mtime and content hash, so an edited file is embedded again) to rows of
 * `<key>.f32`. A file whose time changed but whose bytes did not (a dataset copied or re-mounted) is a hit.
 */
export class EmbeddingCache {
  private constructor(
    private readonly file: string,
    readonly dim: number,
    private readonly entries: Map<string, Entry>,
    private vectors: Float32Array,
    private rows: number,
  ) {}

  /** Opens (or starts) the cache `<dir>/<key>`; a missing or unreadable cache starts empty. */
  static async open(dir: string, key: string, dim: number): Promise<EmbeddingCache> {
    const file = join(dir, key.replace(/[^\w.@+-]/g, '_'));
    try {
      const index = JSON.parse(await readFile(`${file}.json`, 'utf8')) as { dim: number; entries: Record<string, Entry> };
      const bytes = await readFile(`${file}.f32`);
      const vectors = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4).slice();
      const rows = vectors.length / dim;
      if (index.dim === dim && Number.isInteger(rows)) {
        const entries = new Map(Object.entries(index.entries).filter(([, e]) => e.row < rows));
        return new EmbeddingCache(file, dim, entries, vectors, rows);
      }
    } catch {
      // No cache yet, or a torn one: start again.
    }
    return new EmbeddingCache(file, dim, new Map(), new Float32Array(dim * 1024), 0);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached embedding of `path`, if the file has not changed since. */
  async get(path: string): Promise<Float32Array | undefined> {
    const entry = this.entries.get(resolve(path));
    if (!entry) return undefined;
    const info = await stat(path);
    if (info.size !== entry.size) return undefined;
    if (info.mtimeMs !== entry.mtimeMs) {
      if (entry.sha256 === undefined || entry.sha256 !== (await fileHash(path))) return undefined;
      entry.mtimeMs = info.mtimeMs; // same bytes: the next run takes the fast path (once saved)
    }
    return this.vectors.subarray(entry.row * this.dim, (entry.row + 1) * this.dim);
  }

  async set(path: string, vector: Float32Array): Promise<void> {
    const [info, sha256] = await Promise.all([stat(path), fileHash(path)]);
    if (this.vectors.length < (this.rows + 1) * this.dim) {
      const next = new Float32Array(Math.max((this.rows + 1) * this.dim, this.vectors.length * 2));
      next.set(this.vectors);
      this.vectors = next;
    }
    this.vectors.set(vector, this.rows * this.dim);
    this.entries.set(resolve(path), { row: this.rows, size: info.size, mtimeMs: info.mtimeMs, sha256 });
    this.rows++;
  }

  /** Writes the cache (temporary files, then rename, so a crash leaves the previous cache intact). */
  async save(): Promise<void> {
    await mkdir(join(this.file, '..'), { recursive: true });
    const data = this.vectors.subarray(0, this.rows * this.dim);
    await writeFile(`${this.file}.f32.tmp`, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    await writeFile(`${this.file}.json.tmp`, JSON.stringify({ dim: this.dim, entries: Object.fromEntries(this.entries) }));
    await rename(`${this.file}.f32.tmp`, `${this.file}.f32`);
    await rename(`${this.file}.json.tmp`, `${this.file}.json`);
  }
}

/**
 * Embeds files through an optional cache: cached files are read back, the rest go through the embedder in
 * one batch (and into the cache). `transform` turns file bytes into the embedder's input (e.g. a flip).
 */
export async function embedFiles(
  embedder: Embedder,
  paths: readonly string[],
  cache?: EmbeddingCache,
  load: (path: string) => Promise<Parameters<Embedder['embed']>[0]> = (path) => readFile(path),
): Promise<Float32Array[]> {
  const found = await Promise.all(paths.map((p) => cache?.get(p)));
  const missing = [...new Set(paths.filter((_, i) => !found[i]))];
  const fresh = new Map<string, Float32Array>();
  if (missing.length > 0) {
    const vectors = await embedder.embedBatch(await Promise.all(missing.map(load)));
    for (const [i, path] of missing.entries()) {
      fresh.set(path, vectors[i] as Float32Array);
      await cache?.set(path, vectors[i] as Float32Array);
    }
  }
  return paths.map((p, i) => found[i] ?? (fresh.get(p) as Float32Array));
}
