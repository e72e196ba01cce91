/**
 * fewshot-edge core: platform-neutral pieces (embedder, head, store interface, codec, errors).
 * Platform entries (`fewshot-edge` for Node, `fewshot-edge/sdk`, the worker) wire a backend, a model
 * source and a store around these.
 */
export type { Calibration, CalibrationMemo } from './calibration.js';
export { FewShotClassifier, type AddedExample, type ClassifierInfo, type ClassifierParts, type HeadSettings } from './classifier.js';
export {
  decodeExamples,
  encodeExamples,
  EXAMPLES_FORMAT,
  EXAMPLES_FORMAT_VERSION,
  type ExamplesDocument,
  type StoredExample,
} from './codec.js';
export { loadEmbedder, type BackendRuntime, type Embedder, type EmbedderOptions, type ImageInput, type ModelSource } from './embedder.js';
export { FewshotError, isFewshotError, type FewshotErrorCode } from './errors.js';
export { FewShotHead, softmax, unitVector, type ClassSummary, type HeadKind, type HeadMemo, type HeadOptions, type Prediction, type PreparedVector, type Score } from './head.js';
export { httpModelSource, tfliteArtifacts } from './model-source.js';
export { MAX_LABEL_LENGTH, normalizeLabel } from './labels.js';
export { DEFAULT_MODEL, INPUT_SIZE, isModelName, MODELS, type ModelName, type ModelSpec } from './models.js';
export { DEFAULT_IMAGE_LIMITS, decodeImage, rawToRgb, type EncodedImage, type ImageLimits, type RawPixels, type RgbImage } from './pixels.js';
export { checkUserId, MemoryStore, type ExampleStore } from './store.js';
