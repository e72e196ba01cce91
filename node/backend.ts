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
    const ok = await tf.setBackend('wasm');
    await tf.ready();
    if (!ok || tf.getBackend() !== 'wasm') {
      throw new FewshotError('BACKEND_UNAVAILABLE', `The wasm backend failed to initialise (active: ${tf.getBackend()}).`);
    }
    return tf.getBackend();
  })();
  return ready;
}
