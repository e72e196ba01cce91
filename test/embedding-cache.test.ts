import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingCache } from '../node/embedding-cache.js';

describe('EmbeddingCache', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fewshot-cache-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('keeps vectors across runs, survives a new file time with the same bytes, and drops edited files', async () => {
    const image = join(dir, 'a.jpg');
    await writeFile(image, 'first bytes');
    const cache = await EmbeddingCache.open(dir, 'm@1', 2);
    await cache.set(image, Float32Array.of(1, 2));
    await cache.save();

    const reopened = await EmbeddingCache.open(dir, 'm@1', 2);
    expect(Array.from((await reopened.get(image)) ?? [])).toEqual([1, 2]);

    await utimes(image, new Date(2001, 1, 1), new Date(2001, 1, 1)); // a copy or re-mount: new time, same bytes
    expect(Array.from((await reopened.get(image)) ?? [])).toEqual([1, 2]);

    await writeFile(image, 'other bytes'); // same size, new content
    expect(await reopened.get(image)).toBeUndefined();
    expect(await (await EmbeddingCache.open(dir, 'm@2', 2)).get(image)).toBeUndefined(); // another key is another cache
  });
});
