/**
 * Loads the model in the thread that calls it (each pool thread, and the calling thread while they start):
 * the WASM backend (asserted by `useWasmBackend`), then the weights from a folder or an http(s) URL.
 */
import { loadEmbedder, type Embedder } from '../src/embedder.js';
import { useWasmBackend } from './backend.js';
import type { WorkerInit } from './embed-worker.js';
import { localModelSource } from './model-files.js';

export async function loadInThread(init: WorkerInit): Promise<{ embedder: Embedder; backend: string }> {
  const backend = await useWasmBackend();
  const source = localModelSource(init.model, init.source);
  const embedder = await loadEmbedder({ model: init.model, source, ...(init.limits ? { limits: init.limits } : {}) });
  return { embedder, backend };
}
