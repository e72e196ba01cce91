import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { checkTensorImage, type EmbedOptions, type Embedder, type ImageInput } from '../src/embedder.js';
import { FewshotError, type FewshotErrorCode } from '../src/errors.js';
import { MODELS, type ModelSpec } from '../src/models.js';
import type { RawPixels } from '../src/pixels.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './embed-worker.js';

interface Pending {
  resolve: (embeddings: Float32Array[]) => void;
  reject: (err: Error) => void;
}

/** One worker thread and the requests it has not answered yet. */
class PoolWorker {
  readonly pending = new Map<number, Pending>();
  private nextId = 0;

  constructor(readonly thread: Worker) {
    thread.on('message', (reply: WorkerReply) => {
      if (!('id' in reply)) return;
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) thread.unref();
      if ('error' in reply) waiting?.reject(toError(reply.error));
      else waiting?.resolve(reply.embeddings);
    });
    thread.on('error', (err) => this.failAll(err));
    thread.on('exit', () => this.failAll(new FewshotError('BACKEND_UNAVAILABLE', 'An embedding worker thread exited.')));
  }

  embed(inputs: ImageInput[], options: EmbedOptions): Promise<Float32Array[]> {
    const id = this.nextId++;
    // Referenced only while it owes an answer: an idle pool must not keep a CLI process alive.
    this.thread.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.thread.postMessage({ id, inputs, options } satisfies WorkerRequest);
    });
  }

  private failAll(err: Error): void {
    for (const waiting of this.pending.values()) waiting.reject(err);
    this.pending.clear();
  }
}

function toError(error: { code?: string; message: string }): Error {
  return error.code ? new FewshotError(error.code as FewshotErrorCode, error.message) : new Error(error.message);
}

/** Tensors cannot cross threads: read them into raw pixels here (the caller keeps and disposes them). */
function transferable(input: ImageInput): ImageInput {
  if (!(input instanceof tf.Tensor)) return input;
  const { height, width, channels } = checkTensorImage(input);
  const raw: RawPixels = { data: Uint8Array.from(input.dataSync() as ArrayLike<number>), width, height, channels };
  return raw;
}

/**
 * The worker entry: compiled JS next to this file; or, when running from TypeScript sources (tests and
 * scripts under tsx), a bootstrap that registers tsx in the new thread before importing the .ts entry.
 */
function workerEntry(): URL {
  if (!import.meta.url.endsWith('.ts')) return new URL('./embed-worker.js', import.meta.url);
  const entry = new URL('./embed-worker.ts', import.meta.url).href;
  const bootstrap = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};
register();
await import(${JSON.stringify(entry)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`);
}

/**
 * An {@link Embedder} that runs MobileNet in worker threads, one WASM backend each: the calling thread
 * never blocks on inference, and a batch is split across the threads, so on N cores batched throughput
 * grows about N-fold (tfjs has no WASM multi-threading in Node; this is how it uses more than one core).
 */
export class WorkerPoolEmbedder implements Embedder {
  private constructor(
    readonly spec: ModelSpec,
    readonly backend: string,
    private readonly workers: PoolWorker[],
  ) {}

  /**
   * Starts `size` threads that load the model concurrently; resolves when all are ready.
   * @throws FewshotError from the first worker that fails to load (e.g. `MODEL_NOT_FOUND`).
   */
  static async start(init: WorkerInit, size: number): Promise<WorkerPoolEmbedder> {
    const entry = workerEntry();
    const threads = Array.from({ length: size }, () => new Worker(entry, { workerData: init }));
    const ready = threads.map(
      (thread) =>
        new Promise<string>((resolve, reject) => {
          const onMessage = (reply: WorkerReply) => {
            if ('ready' in reply) resolve(reply.backend);
            else if ('failed' in reply) reject(toError(reply.failed));
            else return;
            thread.off('message', onMessage);
          };
          thread.on('message', onMessage);
          thread.once('error', reject);
        }),
    );
    try {
      const backends = await Promise.all(ready);
      const workers = threads.map((t) => new PoolWorker(t));
      // After the listeners are attached (attaching one refs the thread's port): an idle pool must not
      // keep the process alive, even if it never embeds anything.
      for (const thread of threads) thread.unref();
      return new WorkerPoolEmbedder(MODELS[init.model], backends[0] as string, workers);
    } catch (err) {
      await Promise.all(threads.map((t) => t.terminate()));
      throw err;
    }
  }

  get size(): number {
    return this.workers.length;
  }

  async embed(input: ImageInput, options: EmbedOptions = {}): Promise<Float32Array> {
    const [embedding] = await this.leastBusy().embed([transferable(input)], options);
    return embedding as Float32Array;
  }

  /** Splits the batch into one contiguous share per worker and keeps the input order in the result. */
  async embedBatch(inputs: readonly ImageInput[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const items = inputs.map(transferable);
    const share = Math.ceil(items.length / this.workers.length);
    const parts = this.workers
      .map((worker, i) => ({ worker, chunk: items.slice(i * share, (i + 1) * share) }))
      .filter((p) => p.chunk.length > 0)
      .map((p) => p.worker.embed(p.chunk, options));
    return (await Promise.all(parts)).flat();
  }

  dispose(): void {
    for (const worker of this.workers) void worker.thread.terminate();
  }

  private leastBusy(): PoolWorker {
    // Ties go to the lowest index, so a stream of one-at-a-time embeds stays on one warm thread.
    let best = this.workers[0] as PoolWorker;
    for (const worker of this.workers) if (worker.pending.size < best.pending.size) best = worker;
    return best;
  }
}
