import * as tf from '@tensorflow/tfjs-core';
import { FewshotError } from '../src/errors.js';

/** Which TF.js backend runs the model. `auto` tries WebGPU, then WASM, then cpu. */
export type BackendChoice = 'auto' | 'webgpu' | 'wasm' | 'cpu';
export type BackendName = Exclude<BackendChoice, 'auto'>;

export interface BackendOptions {
  backend?: BackendChoice;
  /**
   * Where the tfjs WASM binaries are served (a folder URL ending in `/`, or a map of file names to URLs).
   * Default: beside the SDK's own script, where `npm run build` puts them in `dist/sdk/`.
   */
  wasmPaths?: string | Record<string, string>;
}

let active: Promise<BackendName> | undefined;
let requested: BackendChoice | undefined;

/**
 * Starts a backend once per page or worker and returns the one that is really active. An explicit choice
 * that cannot start fails with `BACKEND_UNAVAILABLE` instead of falling back; `auto` falls back from WebGPU
 * (no adapter) to WASM (SIMD; threads when the page is cross-origin isolated) to cpu. Backend code is loaded
 * only for the backend used.
 */
export function startBackend(options: BackendOptions = {}): Promise<BackendName> {
  const choice = options.backend ?? 'auto';
  if (active && requested !== choice) {
    return Promise.reject(new FewshotError('INVALID_ARGUMENT', `The ${requested} backend was already started on this page; all classifiers of a page share one backend.`));
  }
  requested = choice;
  active ??= (choice === 'auto' ? startAuto(options) : startExplicit(choice, options)).catch((err) => {
    active = undefined;
    throw err;
  });
  return active;
}

async function startAuto(options: BackendOptions): Promise<BackendName> {
  for (const name of ['webgpu', 'wasm'] as const) {
    try {
      return await startExplicit(name, options);
    } catch {
      // try the next one; `info().backend` tells the app which one runs
    }
  }
  return startExplicit('cpu', options);
}

async function startExplicit(name: BackendName, options: BackendOptions): Promise<BackendName> {
  try {
    if (name === 'webgpu') {
      const gpu = (globalThis.navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      if (!gpu || !(await gpu.requestAdapter())) throw new Error('this browser has no WebGPU adapter');
      await import('@tensorflow/tfjs-backend-webgpu');
    } else if (name === 'wasm') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      wasm.setWasmPaths(options.wasmPaths ?? new URL(/* @vite-ignore */ './', import.meta.url).href); // without the comment Vite resolves './' to sdk/index.ts and inlines it
    } else {
      await import('@tensorflow/tfjs-backend-cpu');
    }
    if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
    await tf.ready();
  } catch (cause) {
    throw new FewshotError('BACKEND_UNAVAILABLE', `The ${name} backend is not available here: ${cause instanceof Error ? cause.message : String(cause)}.`, { cause });
  }
  if (tf.getBackend() !== name) {
    throw new FewshotError('BACKEND_UNAVAILABLE', `Asked for the ${name} backend, but ${tf.getBackend()} is active.`);
  }
  return name;
}
