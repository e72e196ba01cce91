import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNodeEmbedder, WorkerPoolEmbedder, type Embedder } from '../node/index.js';
import { codeOfAsync } from './errors.js';
import { caltechDir, repoRoot } from './paths.js';

const images = ['okapi', 'anchor'].flatMap((label) =>
  readdirSync(join(caltechDir, label)).sort().slice(0, 2).map((f) => readFileSync(join(caltechDir, label, f))),
);

/** Whether this thread's event loop turned while `run` was pending (a setImmediate queued first has run). */
async function eventLoopTurned(run: () => Promise<unknown>): Promise<boolean> {
  let turned = false;
  const immediate = setImmediate(() => (turned = true));
  await run();
  clearImmediate(immediate);
  return turned;
}

async function loadPool(model: 'mobilenet_v1_025' | 'mobilenet_v2_100', workers: number): Promise<WorkerPoolEmbedder> {
  const pool = await loadNodeEmbedder({ model, workers });
  expect(pool).toBeInstanceOf(WorkerPoolEmbedder);
  return pool as WorkerPoolEmbedder;
}

describe('the default worker pool answers from the calling thread while its threads start', () => {
  let local: Embedder;

  beforeAll(async () => {
    local = await loadNodeEmbedder({ model: 'mobilenet_v1_025', workers: 0 });
  });

  it('answers before its threads are ready, then sends requests to the threads, with the same embeddings', async () => {
    const pool = await loadPool('mobilenet_v1_025', 2);
    let ready = false;
    void pool.ready.then(() => (ready = true));
    expect(pool.size).toBe(2);
    expect(pool.backend).toBe('wasm');

    // In the calling thread: its event loop cannot turn until the answer is there.
    let early: Float32Array | undefined;
    expect(await eventLoopTurned(async () => (early = await pool.embed(images[0]!)))).toBe(false);
    const earlyBatch = await pool.embedBatch(images);
    expect(await codeOfAsync(() => pool.embed(new Uint8Array([1, 2, 3])))).toBe('INVALID_IMAGE');
    expect(ready).toBe(false);
    expect(early).toEqual(await local.embed(images[0]!));

    await pool.ready;
    // In a worker thread: the calling thread's event loop runs while it waits.
    let late: Float32Array | undefined;
    expect(await eventLoopTurned(async () => (late = await pool.embed(images[0]!)))).toBe(true);
    expect(late).toEqual(early);
    const lateBatch = await pool.embedBatch(images); // split across the two threads
    expect(lateBatch).toHaveLength(images.length);
    lateBatch.forEach((embedding, i) => expect(embedding).toEqual(earlyBatch[i]));
    expect(await codeOfAsync(() => pool.embed(new Uint8Array([1, 2, 3])))).toBe('INVALID_IMAGE');
    pool.dispose();
  });

  it("frees the calling thread's model once the threads have taken over", async () => {
    const before = tf.memory().numTensors;
    const pool = await loadPool('mobilenet_v2_100', 1);
    expect(tf.memory().numTensors).toBeGreaterThan(before); // the stand-in's weights
    await pool.ready;
    expect(tf.memory().numTensors).toBe(before);
    expect(await pool.embed(images[0]!)).toHaveLength(1280);
    pool.dispose();
  });

  it('can be disposed while its threads load: ready resolves, no warning, and the next load starts afresh', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const pool = await loadPool('mobilenet_v1_025', 1);
    await new Promise((resolve) => setImmediate(resolve)); // the threads have been started
    pool.dispose();
    await pool.ready;
    expect(await codeOfAsync(() => pool.embed(images[0]!))).toBe('BACKEND_UNAVAILABLE');
    const next = await loadPool('mobilenet_v1_025', 1);
    expect(next).not.toBe(pool);
    expect(await next.embed(images[0]!)).toEqual(await local.embed(images[0]!));
    next.dispose();
    process.off('warning', onWarning);
    expect(warnings).toEqual([]);
  });

  it('keeps the process alive while `ready` is awaited (and only then: see worker-pool.test.ts)', () => {
    const script = `import { loadNodeEmbedder } from ${JSON.stringify(join(repoRoot, 'dist', 'node', 'index.js'))};
const pool = await loadNodeEmbedder({ model: 'mobilenet_v1_025', workers: 1 });
await pool.ready;
console.log('ready');`;
    const file = join(mkdtempSync(join(tmpdir(), 'fewshot-ready-')), 'ready.mjs');
    writeFileSync(file, script);
    const run = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stdout.trim()).toBe('ready');
    expect(run.signal).toBeNull();
    expect(run.status).toBe(0);
  });
});
