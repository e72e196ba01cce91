/** The MobileNet variants fewshot-edge knows how to load and embed with. */
export type ModelName = 'mobilenet_v2_100' | 'mobilenet_v1_025' | 'mobilenet_v3_small_075';

/** Everything the embedder and the weight downloader need to know about one model. */
export interface ModelSpec {
  readonly name: ModelName;
  /** Length of the embedding vector. */
  readonly dim: number;
  /** Format of the weights: a TF.js layers or graph model, or a TFLite flatbuffer run on tfjs ops (src/tflite/). */
  readonly format: 'layers' | 'graph' | 'tflite';
  /** Pixel range the network was trained on; 0..255 bytes are mapped linearly onto it. */
  readonly inputRange: readonly [number, number];
  /** Layer (layers model), node (graph model) or output tensor (TFLite) whose value is the embedding. */
  readonly embeddingNode: string;
  /** Folder name under a models directory (`fetch-model --out`, `FEWSHOT_MODEL_DIR`, or the default: node/model-dir.ts). */
  readonly folder: string;
  /** The file a loader opens in that folder: `model.json` (TF.js; its shards lie beside it) or the `.tflite` file. */
  readonly file: string;
  /** The official URL of `file` (shards are fetched beside a `model.json`). Query string appended to every file. */
  readonly officialUrl: string;
  readonly officialQuery: string;
  /** SHA-256 of a single-file model (`.tflite`): `fetch-model` refuses other bytes. */
  readonly sha256?: string;
  /**
   * Exponent of the default head's power transform (`FeatureTransform.power`); chosen with `centringPrior`
   * by leave-one-domain-out for 1-shot accuracy (scripts/lodo.ts). The reference mean is made with it.
   */
  readonly power: number;
  /**
   * Weight of the reference mean in the centre of the default head's transform, in examples
   * (`FeatureTransform.prior`): chosen by leave-one-domain-out for 1-shot accuracy (scripts/lodo.ts).
   */
  readonly centringPrior: number;
  /**
   * Softmax temperature over the head's (centred) cosine similarities with one example per class; from two on,
   * the head fits it to the user's own examples (src/calibration.ts). Chosen by leave-one-domain-out
   * (scripts/lodo.ts, docs/ACCURACY.md).
   */
  readonly temperature: number;
  /** Growth of the temperature with many classes of few examples (see `adaptiveTemperature`). */
  readonly temperatureGrowth: number;
  /** Temperature for the plain cosine head (`transform: 'plain'`). */
  readonly plainTemperature: number;
  /**
   * Similarity under which the default head answers "unknown" with one example per class, the prior of the
   * threshold fitted from two on; chosen to keep false "unknown" at or under 10% in every development domain
   * and setting (scripts/lodo.ts).
   */
  readonly unknownThreshold: number | null;
  /**
   * Weight, in held-out examples, of `temperature` and `unknownThreshold` against the leave-one-out fit on
   * the user's own examples (src/calibration.ts).
   */
  readonly calibrationWeight: number;
  /** Standard deviations under the held-out examples' own-class similarity at which "unknown" starts. */
  readonly unknownSpread: number;
  /** Bumped when weights or preprocessing change, so caches and stored embeddings can tell. */
  readonly version: number;
}

export const MODELS: Readonly<Record<ModelName, ModelSpec>> = {
  mobilenet_v2_100: {
    name: 'mobilenet_v2_100',
    dim: 1280,
    format: 'layers',
    inputRange: [-1, 1],
    embeddingNode: 'global_average_pooling2d_1',
    folder: 'mobilenet_v2_100_224_feature',
    file: 'model.json',
    officialUrl: 'https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v2_1.0_224/model.json',
    officialQuery: '',
    // npx tsx scripts/lodo.ts --model mobilenet_v2_100: fitted on all seven development domains, judged on each
    // one left out (docs/lodo-tables.md); plain head: npm run calibrate -- --model mobilenet_v2_100.
    power: 0.5,
    centringPrior: 2,
    temperature: 0.11,
    temperatureGrowth: 0,
    plainTemperature: 0.025,
    unknownThreshold: -0.1,
    calibrationWeight: 1,
    unknownSpread: 1.5,
    version: 1,
  },
  mobilenet_v1_025: {
    name: 'mobilenet_v1_025',
    dim: 256,
    format: 'graph',
    inputRange: [0, 1],
    embeddingNode: 'module_apply_default/MobilenetV1/Logits/global_pool',
    folder: 'mobilenet_v1_025_224_graph',
    file: 'model.json',
    officialUrl: 'https://tfhub.dev/google/imagenet/mobilenet_v1_025_224/classification/1/model.json',
    officialQuery: '?tfjs-format=file',
    // npx tsx scripts/lodo.ts --model mobilenet_v1_025 (docs/lodo-tables.md).
    power: 0.5,
    centringPrior: 10,
    temperature: 0.135,
    temperatureGrowth: 0,
    plainTemperature: 0.02,
    unknownThreshold: 0.03,
    calibrationWeight: 1,
    unknownSpread: 1,
    version: 1,
  },
  mobilenet_v3_small_075: {
    name: 'mobilenet_v3_small_075',
    dim: 1024,
    format: 'tflite',
    inputRange: [0, 1],
    embeddingNode: 'feature_vector',
    folder: 'mobilenet_v3_small_075_embedder',
    file: 'mobilenet_v3_small.tflite',
    // MediaPipe's Image Embedder (float32), Apache-2.0: a TF-slim MobileNetV3-Small 0.75 trained on ImageNet.
    officialUrl: 'https://storage.googleapis.com/mediapipe-models/image_embedder/mobilenet_v3_small/float32/1/mobilenet_v3_small.tflite',
    officialQuery: '',
    sha256: 'bbbb4c51a55a53905af1daec995ca1aae355046f8839bb8c9f5ce9271394bc40',
    // npx tsx scripts/lodo.ts --model mobilenet_v3_small_075 (docs/lodo-tables.md); plain head: npm run calibrate
    // -- --model mobilenet_v3_small_075 (worst ECE 0.134, mean 0.049).
    power: 0.5,
    centringPrior: 2,
    temperature: 0.11,
    temperatureGrowth: 0,
    plainTemperature: 0.025,
    unknownThreshold: -0.12,
    calibrationWeight: 1,
    unknownSpread: 1,
    version: 1,
  },
};

/** The accurate default. */
export const DEFAULT_MODEL: ModelName = 'mobilenet_v2_100';

/** Side of the square the networks take. */
export const INPUT_SIZE = 224;

export function isModelName(name: unknown): name is ModelName {
  return typeof name === 'string' && Object.hasOwn(MODELS, name);
}
