import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { checkTensorImage, type EmbedOptions, type Embedder, type ImageInput } from '../src/embedder.js';
import { FewshotError, type FewshotErrorCode } from '../src/errors.js';
import { MODELS, type ModelSpec } from '../src/models.js';
import type { RawPixels } from '../src/pixels.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './embed-worker.js';
import { loadInThread } from './load-in-thread.js';
import { StandIn } from './stand-in.js';

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
 * Starts `size` threads that load the model concurrently. `ready` gives the backend they report once all
 * are ready; on the first failure (e.g. `MODEL_NOT_FOUND`) it terminates every thread and rejects.
 */
function startThreads(init: WorkerInit, size: number): { threads: Worker[]; ready: Promise<string> } {
  const entry = workerEntry();
  const threads = Array.from({ length: size }, () => new Worker(entry, { workerData: init }));
  const each = threads.map(
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
        // Terminated while loading (a pool disposed during its warm start). A thread's messages are
        // delivered before its 'exit', so a reported failure keeps its code.
        thread.once('exit', () => reject(new FewshotError('BACKEND_UNAVAILABLE', 'An embedding worker thread exited before it was ready.')));
      }),
  );
  const ready = Promise.all(each).then(
    (backends) => backends[0] as string,
    async (err: unknown) => {
      await Promise.all(threads.map((t) => t.terminate()));
      throw err;
    },
  );
  return { threads, ready };
}

/**
 * An {@link Embedder} that runs MobileNet in worker threads, one WASM backend each: the calling thread
 * never blocks on inference, and a batch is split across the threads, so on N cores batched throughput
 * grows about N-fold (tfjs has no WASM multi-threading in Node; this is how it uses more than one core).
 * Started with {@link warmStart} (what `loadNodeEmbedder` does), it answers from the calling thread until
 * the threads are ready, so the first answer does not wait for them.
 */
export class WorkerPoolEmbedder implements Embedder {
  private workers: PoolWorker[] = [];
  /** The calling thread's model while the threads start (warmStart only). */
  private standIn: StandIn | undefined;
  private starting: Worker[] = [];
  private threadsReady: Promise<void> = Promise.resolve();
  /** Someone waits for {@link ready}: the loading threads then keep the process alive. */
  private awaited = false;
  private disposed = false;

  private constructor(
    readonly spec: ModelSpec,
    readonly backend: string,
    /** Worker threads, counted from the start, also while the calling thread answers for them. */
    readonly size: number,
  ) {}

  /**
   * Starts `size` threads that load the model concurrently; resolves when all are ready.
   * @throws FewshotError from the first worker that fails to load (e.g. `MODEL_NOT_FOUND`).
   */
  static async start(init: WorkerInit, size: number): Promise<WorkerPoolEmbedder> {
    const { threads, ready } = startThreads(init, size);
    const pool = new WorkerPoolEmbedder(MODELS[init.model], await ready, size);
    pool.adopt(threads);
    return pool;
  }

  /**
   * Loads the model in the calling thread and resolves as soon as it can answer, so the first embedding
   * comes as fast as with `workers: 0`. The threads start right after, in the background, and take every
   * request once all of them are ready (same weights and code: the same embeddings); until then requests
   * run in the calling thread and block it. If the threads fail to start, the calling thread keeps
   * answering, {@link ready} rejects and a warning is emitted.
   * @throws FewshotError when the calling thread cannot load the model (e.g. `MODEL_NOT_FOUND`).
   */
  static async warmStart(init: WorkerInit, size: number): Promise<WorkerPoolEmbedder> {
    const { embedder, backend } = await loadInThread(init);
    const pool = new WorkerPoolEmbedder(embedder.spec, backend, size);
    pool.standIn = new StandIn(embedder);
    pool.threadsReady = pool.takeOver(init);
    pool.threadsReady.catch(() => undefined); // reported by the warning; awaiting `ready` still rejects
    return pool;
  }

  /**
   * Resolves once requests go to the worker threads (at once after {@link start}), or when the pool is
   * disposed before that; rejects with the reason the threads could not start. While it is pending, the
   * loading threads keep the process alive (otherwise they do not, see {@link warmStart}).
   */
  get ready(): Promise<void> {
    this.awaited = true;
    for (const thread of this.starting) thread.ref();
    return this.threadsReady;
  }

  async embed(input: ImageInput, options: EmbedOptions = {}): Promise<Float32Array> {
    if (this.standIn) return this.standIn.run((local) => local.embed(input, options));
    const [embedding] = await this.leastBusy().embed([transferable(input)], options);
    return embedding as Float32Array;
  }

  /** Splits the batch into one contiguous share per worker and keeps the input order in the result. */
  async embedBatch(inputs: readonly ImageInput[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    if (this.standIn) return this.standIn.run((local) => local.embedBatch(inputs, options));
    const workers = this.live();
    const items = inputs.map(transferable);
    const share = Math.ceil(items.length / workers.length);
    const parts = workers
      .map((worker, i) => ({ worker, chunk: items.slice(i * share, (i + 1) * share) }))
      .filter((p) => p.chunk.length > 0)
      .map((p) => p.worker.embed(p.chunk, options));
    return (await Promise.all(parts)).flat();
  }

  dispose(): void {
    this.disposed = true;
    for (const thread of this.starting) void thread.terminate();
    for (const worker of this.workers) void worker.thread.terminate();
    this.workers = [];
    this.standIn?.retire();
    this.standIn = undefined;
  }

  /** Starts the threads, then hands them every request and retires the calling thread's model. */
  private async takeOver(init: WorkerInit): Promise<void> {
    // On the next turn of the event loop: a request made as soon as warmStart resolves runs first, before
    // the threads' start-up competes with it for the CPU.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.disposed) return;
    const { threads, ready } = startThreads(init, this.size);
    // Unreferenced while they load, unless `ready` is awaited: a process answered by the calling thread
    // (a CLI call) may exit.
    if (!this.awaited) for (const thread of threads) thread.unref();
    this.starting = threads;
    try {
      await ready;
    } catch (err) {
      if (this.disposed) return;
      process.emitWarning(`The embedding worker threads did not start, so the model keeps running in the calling thread: ${String(err)}`, 'FewshotWarning');
      throw err;
    } finally {
      this.starting = [];
    }
    if (this.disposed) return;
    this.adopt(threads);
    this.standIn?.retire();
    this.standIn = undefined;
  }

  private adopt(threads: Worker[]): void {
    this.workers = threads.map((t) => new PoolWorker(t));
    // After the listeners are attached (attaching one refs the thread's port): an idle pool must not
    // keep the process alive, even if it never embeds anything.
    for (const thread of threads) thread.unref();
  }

  /** The threads, when requests go to them; without a stand-in that is only not so once disposed. */
  private live(): PoolWorker[] {
    if (this.workers.length === 0) throw new FewshotError('BACKEND_UNAVAILABLE', 'This embedder has been disposed.');
    return this.workers;
  }

  private leastBusy(): PoolWorker {
    const workers = this.live();
    // Ties go to the lowest index, so a stream of one-at-a-time embeds stays on one warm thread.
    let best = workers[0] as PoolWorker;
    for (const worker of workers) if (worker.pending.size < best.pending.size) best = worker;
    return best;
  }
}
