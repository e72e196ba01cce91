import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec } from './models.js';

/**
 * A `.tflite` file travels as tfjs model artifacts (`format: 'tflite'`, the file as `weightData`), so every
 * IOHandler and cache that carries TF.js models (IndexedDB in the browser, the Node folder reader, a worker's
 * asset binding) carries it unchanged.
 */
export const TFLITE_FORMAT = 'tflite';

export function tfliteArtifacts(file: ArrayBuffer): tf.io.ModelArtifacts {
  return { format: TFLITE_FORMAT, modelTopology: {}, weightSpecs: [], weightData: file };
}

/** The `.tflite` bytes in artifacts loaded by any IOHandler; `undefined` when they hold a TF.js model instead. */
export function tfliteBytes(artifacts: tf.io.ModelArtifacts): Uint8Array | undefined {
  const data = artifacts.weightData;
  if (artifacts.format !== TFLITE_FORMAT || data === undefined) return undefined;
  return new Uint8Array(Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data);
}

type FetchFunc = NonNullable<tf.io.LoadOptions['fetchFunc']>;

/**
 * Where a model is served over HTTP: `url` names its `model.json` (TF.js; shards are fetched beside it, with
 * the same query string) or its `.tflite` file.
 */
export function httpModelSource(spec: ModelSpec, url: string, fetchFunc?: FetchFunc): tf.io.IOHandler {
  if (spec.format !== 'tflite') return tf.io.http(url, fetchFunc ? { fetchFunc } : {});
  const get: FetchFunc = fetchFunc ?? ((input, init) => fetch(input, init));
  return {
    load: async () => {
      const response = await get(url);
      if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
      return tfliteArtifacts(await response.arrayBuffer());
    },
  };
}
