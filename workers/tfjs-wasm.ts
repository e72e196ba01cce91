import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import simdModule from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm';
import { FewshotError } from '../src/errors.js';

// A path tfjs asks the platform to fetch; we answer it ourselves, since the module is already compiled.
const WASM_PREFIX = '/fewshot-wasm/';

let ready: Promise<void> | undefined;

/**
 * Starts the tfjs WASM backend (SIMD, one thread) inside workerd, once per isolate.
 *
 * Workers forbid compiling WebAssembly from bytes, and tfjs has no public way to take a compiled
 * `WebAssembly.Module` (tensorflow/tfjs#8157). So tfjs is told SIMD is there without probing (the probe
 * compiles bytes), is pointed at a path we serve as an empty response, and, only while the backend
 * starts, `WebAssembly.instantiate` is given the module wrangler compiled from the imported `.wasm`.
 * No `nodejs_compat`: with it, emscripten's glue would take its Node path and read files.
 * @throws FewshotError `BACKEND_UNAVAILABLE` when the backend does not come up as `wasm`.
 */
export function startWasmBackend(): Promise<void> {
  ready ??= start().catch((cause) => {
    ready = undefined; // let the next request try again
    throw cause;
  });
  return ready;
}

async function start(): Promise<void> {
  tf.env().set('WASM_HAS_SIMD_SUPPORT', true);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setWasmPaths(WASM_PREFIX, true);
  const platform = tf.env().platform;
  const platformFetch = platform.fetch.bind(platform);
  platform.fetch = (path: string, init?: RequestInit) =>
    path.startsWith(WASM_PREFIX) ? Promise.resolve(new Response(new Uint8Array(0))) : platformFetch(path, init);

  const instantiate = WebAssembly.instantiate;
  const fromModule = (async (source: BufferSource | WebAssembly.Module, imports?: WebAssembly.Imports) => {
    if (source instanceof WebAssembly.Module) return instantiate(source, imports);
    return { instance: await instantiate(simdModule, imports), module: simdModule };
  }) as typeof WebAssembly.instantiate;
  WebAssembly.instantiate = fromModule;
  let ok: boolean;
  try {
    ok = await tf.setBackend('wasm');
    await tf.ready();
  } finally {
    WebAssembly.instantiate = instantiate;
  }
  if (!ok || tf.getBackend() !== 'wasm') {
    throw new FewshotError('BACKEND_UNAVAILABLE', `The tfjs wasm backend did not start in this worker (active: ${tf.getBackend()}).`);
  }
}
