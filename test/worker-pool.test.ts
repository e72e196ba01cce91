import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClassifier, decodeImage, loadNodeEmbedder, MemoryStore, WorkerPoolEmbedder, type Embedder } from '../node/index.js';
import { codeOfAsync } from './errors.js';
import { caltechDir, datasetsDir, repoRoot } from './paths.js';

const images = ['okapi', 'anchor', 'crab'].flatMap((label) =>
  readdirSync(join(caltechDir, label)).sort().slice(0, 2).map((f) => readFileSync(join(caltechDir, label, f))),
);

function maxDifference(a: Float32Array, b: Float32Array): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
}

describe('worker-thread embedding pool', () => {
  let pool: Embedder;
  let local: Embedder;

  beforeAll(async () => {
    pool = await loadNodeEmbedder({ model: 'mobilenet_v1_025', workers: 2 });
    local = await loadNodeEmbedder({ model: 'mobilenet_v1_025', workers: 0 });
    await (pool as WorkerPoolEmbedder).ready; // these tests are about the threads, not the warm start
  });
  afterAll(() => pool.dispose());

  it('an idle pool does not keep the process alive, even if it never embedded anything', () => {
    const script = `import { loadNodeEmbedder } from ${JSON.stringify(join(repoRoot, 'dist', 'node', 'index.js'))};
await loadNodeEmbedder({ model: 'mobilenet_v1_025', workers: 1 });
console.log('loaded');`;
    // A file, not --input-type: worker threads inherit the parent's flags.
    const file = join(mkdtempSync(join(tmpdir(), 'fewshot-idle-')), 'idle.mjs');
    writeFileSync(file, script);
    const run = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stdout.trim()).toBe('loaded');
    expect(run.signal).toBeNull(); // not killed by the timeout
    expect(run.status).toBe(0);
  });

  it('runs two threads on the wasm backend', () => {
    expect(pool).toBeInstanceOf(WorkerPoolEmbedder);
    expect((pool as WorkerPoolEmbedder).size).toBe(2);
    expect(pool.backend).toBe('wasm');
  });

  it('gives the same embeddings as this thread, in input order, when a batch is split across threads', async () => {
    const fromPool = await pool.embedBatch(images);
    expect(fromPool).toHaveLength(images.length);
    for (let i = 0; i < images.length; i++) {
      expect(maxDifference(fromPool[i]!, await local.embed(images[i]!))).toBeLessThan(1e-5);
    }
    expect(maxDifference(await pool.embed(images[4]!), fromPool[4]!)).toBeLessThan(1e-5);
  });

  it('accepts tensors (read into pixels here) and raw pixels', async () => {
    const rgb = decodeImage(images[0]!);
    const tensor = tf.tensor3d(rgb.data, [rgb.height, rgb.width, 3], 'int32');
    const [fromTensor, fromRaw] = await pool.embedBatch([tensor, rgb]);
    tensor.dispose();
    const reference = await local.embed(images[0]!);
    expect(maxDifference(fromTensor!, reference)).toBeLessThan(1e-5);
    expect(maxDifference(fromRaw!, reference)).toBeLessThan(1e-5);
  });

  it('passes image errors back with their codes and stays usable', async () => {
    expect(await codeOfAsync(() => pool.embed(new Uint8Array([1, 2, 3])))).toBe('INVALID_IMAGE');
    expect(await codeOfAsync(() => pool.embedBatch([images[0]!, images[1]!, images[2]!, images[0]!.subarray(0, 500)]))).toBe('INVALID_IMAGE');
    expect(await pool.embedBatch(images.slice(0, 3))).toHaveLength(3);
  });

  it('reports missing weights as MODEL_NOT_FOUND', async () => {
    const missing = { name: 'mobilenet_v1_025' as const, source: '/nonexistent/model/folder' };
    expect(await codeOfAsync(() => loadNodeEmbedder({ model: missing, workers: 1 }))).toBe('MODEL_NOT_FOUND');
    expect(await codeOfAsync(() => loadNodeEmbedder({ model: missing, workers: 0 }))).toBe('MODEL_NOT_FOUND');
  });

  it('refuses weights of another model with MODEL_MISMATCH (real 256-d v1 layers weights offered as v2)', async () => {
    const v1Layers = join(datasetsDir, '..', 'models', 'mobilenet_v1_025_224_layers');
    const wrong = { name: 'mobilenet_v2_100' as const, source: v1Layers };
    expect(await codeOfAsync(() => loadNodeEmbedder({ model: wrong, workers: 0 }))).toBe('MODEL_MISMATCH');
    expect(await codeOfAsync(() => loadNodeEmbedder({ model: wrong, workers: 1 }))).toBe('MODEL_MISMATCH');
  });

  it('loads a fresh pool after the shared one was disposed', async () => {
    const first = await loadNodeEmbedder({ model: 'mobilenet_v1_025', workers: 1 });
    expect(await loadNodeEmbedder({ model: 'mobilenet_v1_025', workers: 1 })).toBe(first); // shared while alive
    first.dispose();
    const second = await loadNodeEmbedder({ model: 'mobilenet_v1_025', workers: 1 });
    expect(second).not.toBe(first);
    expect(await second.embed(images[0]!)).toHaveLength(256);
    second.dispose();
  });

  it('is what createClassifier uses by default, with the same answers', async () => {
    const clf = await createClassifier({ userId: 'pool', store: new MemoryStore(), model: 'mobilenet_v1_025' });
    expect(clf.info().backend).toBe('wasm');
    await clf.addExamples('okapi', [images[0]!]);
    await clf.addExamples('anchor', [images[2]!]);
    const answers = await clf.classifyMany([images[1]!, images[3]!]);
    expect(answers.map((a) => a.label)).toEqual(['okapi', 'anchor']);
  });
});
