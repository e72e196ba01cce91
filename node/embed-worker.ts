/**
 * Worker thread of the embedding pool: loads one MobileNet on its own WASM backend and embeds what the
 * main thread sends. Protocol (see worker-pool.ts): `init` once, then `embed` requests answered by id.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { EmbedOptions, Embedder, ImageInput } from '../src/embedder.js';
import { isFewshotError } from '../src/errors.js';
import type { ModelName } from '../src/models.js';
import type { ImageLimits } from '../src/pixels.js';
import { loadInThread } from './load-in-thread.js';

export interface WorkerInit {
  model: ModelName;
  /** A local folder or an http(s) URL. */
  source: string;
  limits?: ImageLimits;
}

export type WorkerRequest = { id: number; inputs: ImageInput[]; options: EmbedOptions };
export type WorkerReply =
  | { id: number; embeddings: Float32Array[] }
  | { id: number; error: { code?: string; message: string } }
  | { ready: true; backend: string }
  | { failed: { code?: string; message: string } };

const port = parentPort;
if (!port) throw new Error('embed-worker.ts runs as a worker thread only.');
const init = workerData as WorkerInit;
const describe = (err: unknown) => ({
  ...(isFewshotError(err) ? { code: err.code } : {}),
  message: err instanceof Error ? err.message : String(err),
});

let embedder: Embedder;
try {
  const loaded = await loadInThread(init);
  embedder = loaded.embedder;
  port.postMessage({ ready: true, backend: loaded.backend } satisfies WorkerReply);
} catch (err) {
  port.postMessage({ failed: describe(err) } satisfies WorkerReply);
  process.exit(1);
}

port.on('message', async ({ id, inputs, options }: WorkerRequest) => {
  try {
    const embeddings = await embedder.embedBatch(inputs, options);
    port.postMessage({ id, embeddings } satisfies WorkerReply, embeddings.map((e) => e.buffer as ArrayBuffer));
  } catch (err) {
    port.postMessage({ id, error: describe(err) } satisfies WorkerReply);
  }
});
