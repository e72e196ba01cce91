import * as tf from '@tensorflow/tfjs-core';
import { KNNClassifier } from '@tensorflow-models/knn-classifier';

interface Labelled {
  label: string;
  vector: Float32Array;
}

/**
 * The peer head for `fewshot eval`: `@tensorflow-models/knn-classifier`, the k-NN that the TF.js docs pair
 * with MobileNet, run for real on the same embeddings (needs a tfjs backend in this thread).
 */
export class PeerKnn {
  /** Accuracy on `queries` after adding `support`, for each k (one classifier, so the same ties). */
  async score(support: readonly Labelled[], queries: readonly Labelled[], ks: readonly number[]): Promise<number[]> {
    const knn = new KNNClassifier();
    try {
      for (const s of support) tf.tidy(() => knn.addExample(tf.tensor1d(s.vector), s.label));
      const right = ks.map(() => 0);
      for (const q of queries) {
        const input = tf.tensor1d(q.vector);
        for (const [i, k] of ks.entries()) {
          if ((await knn.predictClass(input, k)).label === q.label) right[i] = (right[i] as number) + 1;
        }
        input.dispose();
      }
      return right.map((r) => r / queries.length);
    } finally {
      knn.dispose();
    }
  }
}
