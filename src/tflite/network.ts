import * as tf from '@tensorflow/tfjs-core';
import { compileTflite, type CompileOptions } from './graph.js';
import { parseTflite } from './schema.js';

/**
 * The shape `src/embedder.ts` wants from a model (its private `Network` type): `run` takes a
 * `[batch, 224, 224, 3]` float tensor of 0..255 values and returns `[batch, dim]`.
 * This is the piece that would become `loadNetwork`'s `format: 'tflite'` branch.
 */
export interface TfliteNetwork {
  run(batch: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
  dim: number;
}

/**
 * Loads an image-embedder `.tflite` (one float32 NHWC input, one `[1, dim]` output) to run on the active
 * tfjs backend. `inputRange` is the range the model wants its pixels in (MediaPipe's embedder: [0, 1]).
 */
export function loadTfliteNetwork(
  bytes: Uint8Array | ArrayBuffer,
  inputRange: readonly [number, number],
  options?: CompileOptions,
): TfliteNetwork {
  const [lo, hi] = inputRange;
  // The 0..255 -> inputRange scaling is the graph's to do: optimised, it folds into the first convolution.
  const graph = compileTflite(parseTflite(bytes), { ...options, inputScale: { scale: (hi - lo) / 255, offset: lo } });
  const inputShape = graph.inputShape;
  const outputShape = graph.outputShapes[0];
  if (inputShape.length !== 4 || inputShape[3] !== 3 || !outputShape || graph.outputShapes.length !== 1) {
    graph.dispose();
    throw new Error(`Not an image embedder: input [${inputShape.join(', ')}], ${graph.outputShapes.length} output(s).`);
  }
  const dim = outputShape[outputShape.length - 1] as number;
  return {
    dim,
    run: (batch) =>
      tf.tidy(() => {
        const [out] = graph.run(batch);
        return tf.reshape(out as tf.Tensor, [batch.shape[0], dim]) as tf.Tensor2D;
      }),
    dispose: () => graph.dispose(),
  };
}
