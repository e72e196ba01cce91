import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { FewshotError } from '../src/errors.js';

let ready: Promise<string> | undefined;

/**
 * Selects the WASM backend (SIMD, single-threaded: tfjs has no WASM threads in Node) and checks that it
 * is really the active one. The cpu backend is never imported in Node, so tfjs cannot silently fall back
 * to it and run 20x slower.
 * @throws FewshotError `BACKEND_UNAVAILABLE` when WASM cannot be initialised.
 */
export function useWasmBackend(): Promise<string> {
  ready ??= (async () => {
    let ok = false;
    try {
      ok = await tf.setBackend('wasm');
    } catch (cause) {
      throw unavailable(cause);
    }
    // Asked only after a successful switch: with no backend at all, getBackend() itself throws.
    if (!ok || tf.getBackend() !== 'wasm') throw unavailable(undefined);
    return 'wasm';
  })();
  return ready;
}

function unavailable(cause: unknown): FewshotError {
  return new FewshotError(
    'BACKEND_UNAVAILABLE',
    'The TensorFlow.js wasm backend failed to initialise (is WebAssembly disabled, e.g. by --jitless?). ' +
      'fewshot-edge does not fall back to the 20x slower cpu backend.',
    { cause },
  );
}
