import * as tf from '@tensorflow/tfjs-core';
import { FewshotError } from '../src/errors.js';
import { startWasm } from './wasm-backend.js';
import type { WasmBuild } from './wasm-files.js';

/** Which TF.js backend runs the model. `auto` tries WebGPU, then WASM, then cpu. */
export type BackendChoice = 'auto' | 'webgpu' | 'wasm' | 'cpu';
export type BackendName = Exclude<BackendChoice, 'auto'>;

export interface BackendOptions {
  backend?: BackendChoice;
  /**
   * Where the tfjs WASM binaries are served: a folder URL ending in `/`, or a map of file names to URLs
   * (for a CDN or your own static folder). Default: beside the SDK's script, which bundlers (Vite, webpack 5)
   * emit on their own, and `dist/sdk/` holds for pages without a bundler.
   */
  wasmPaths?: string | Record<string, string>;
}

/** A backend that `auto` tried and could not start, and why. */
export interface BackendFailure {
  backend: BackendName | 'wasm-threads';
  reason: string;
}

/** The backend that runs, its WASM threads (1 when single-threaded or not WASM), and what failed before it. */
export interface BackendReport {
  backend: BackendName;
  threads: number;
  /** On `wasm`: the build that runs (`threaded-simd` on cross-origin isolated pages, else `simd`). */
  wasmBuild?: WasmBuild;
  failedBackends: BackendFailure[];
}

let active: Promise<BackendReport> | undefined;
let requested: BackendChoice | undefined;

/**
 * Starts a backend once per page or worker and reports the one that really runs. An explicit choice that
 * cannot start fails with `BACKEND_UNAVAILABLE` instead of falling back; `auto` falls back from WebGPU (no
 * adapter) to WASM (SIMD; threads when the page is cross-origin isolated) to cpu, and says why in the report
 * and, once, in the console. Backend code is loaded only for the backend used. Settles within bounded time.
 */
export function startBackend(options: BackendOptions = {}): Promise<BackendReport> {
  const choice = options.backend ?? 'auto';
  if (active && requested !== choice) {
    return Promise.reject(new FewshotError('INVALID_ARGUMENT', `The ${requested} backend was already started on this page; all classifiers of a page share one backend.`));
  }
  requested = choice;
  active ??= (choice === 'auto' ? startAuto(options) : startExplicit(choice, options, [])).catch((err) => {
    active = undefined;
    throw err;
  });
  return active;
}

async function startAuto(options: BackendOptions): Promise<BackendReport> {
  const failedBackends: BackendFailure[] = [];
  for (const name of ['webgpu', 'wasm'] as const) {
    try {
      return await startExplicit(name, options, failedBackends);
    } catch (err) {
      failedBackends.push({ backend: name, reason: err instanceof FewshotError && err.cause instanceof Error ? err.cause.message : String(err) });
    }
  }
  const report = await startExplicit('cpu', options, failedBackends);
  console.warn(
    `fewshot-edge: running on the cpu backend, about 30x slower than WASM. ${failedBackends.map((f) => `${f.backend}: ${f.reason}.`).join(' ')} ` +
      'Fix: serve the .wasm files from fewshot-edge/dist/sdk/ (bundlers do it on their own) or pass `wasmPaths`; `info().failedBackends` has the details.',
  );
  return report;
}

async function startExplicit(name: BackendName, options: BackendOptions, failedBackends: BackendFailure[]): Promise<BackendReport> {
  let threads = 1;
  let wasmBuild: WasmBuild | undefined;
  try {
    if (name === 'webgpu') {
      const gpu = (globalThis.navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      if (!gpu || !(await gpu.requestAdapter())) throw new Error('this browser has no WebGPU adapter');
      await import('@tensorflow/tfjs-backend-webgpu');
      if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
    } else if (name === 'wasm') {
      const started = await startWasm(options.wasmPaths);
      threads = started.threads;
      wasmBuild = started.build;
      if (started.threadsFailure) {
        failedBackends.push({ backend: 'wasm-threads', reason: started.threadsFailure });
        console.info(`fewshot-edge: WASM runs on one thread; the threaded build failed (${started.threadsFailure}).`);
      }
    } else {
      await import('@tensorflow/tfjs-backend-cpu');
      if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') failed`);
    }
    await tf.ready();
  } catch (cause) {
    throw new FewshotError('BACKEND_UNAVAILABLE', `The ${name} backend is not available here: ${cause instanceof Error ? cause.message : String(cause)}.`, { cause });
  }
  if (tf.getBackend() !== name) {
    throw new FewshotError('BACKEND_UNAVAILABLE', `Asked for the ${name} backend, but ${tf.getBackend()} is active.`);
  }
  return { backend: name, threads, ...(wasmBuild ? { wasmBuild } : {}), failedBackends };
}
