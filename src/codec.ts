import { FewshotError } from './errors.js';
import { normalizeLabel } from './labels.js';
import { MODELS, isModelName, type ModelName } from './models.js';

/** One learned example as stored: the raw (unnormalised) embedding and where it came from. */
export interface StoredExample {
  readonly id: string;
  readonly label: string;
  readonly model: ModelName;
  readonly embedding: Float32Array;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/** Name and version of the portable example format; readers refuse versions newer than theirs. */
export const EXAMPLES_FORMAT = 'fewshot-edge/examples';
export const EXAMPLES_FORMAT_VERSION = 1;

/**
 * The portable, versioned form of a set of examples (`export()` / `import()`, files, HTTP). JSON-safe:
 * embeddings are little-endian float32 in base64, 1.33 bytes per byte, exact. One model per document.
 */
export interface ExamplesDocument {
  format: typeof EXAMPLES_FORMAT;
  version: number;
  model: ModelName;
  dim: number;
  examples: { id: string; label: string; createdAt: number; embedding: string }[];
}

const MAX_ID_LENGTH = 64;
const ID_PATTERN = /^[A-Za-z0-9_-]+$/;

/** Ids are opaque, URL- and filename-safe tokens (UUIDs by default). */
export function checkExampleId(id: unknown): string {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || !ID_PATTERN.test(id)) {
    throw new FewshotError('INVALID_ARGUMENT', `An example id is 1-${MAX_ID_LENGTH} characters of A-Z a-z 0-9 _ -; got ${JSON.stringify(id)}.`);
  }
  return id;
}

/** Encodes examples of one model into the portable document. */
export function encodeExamples(model: ModelName, examples: readonly StoredExample[]): ExamplesDocument {
  const dim = MODELS[model].dim;
  return {
    format: EXAMPLES_FORMAT,
    version: EXAMPLES_FORMAT_VERSION,
    model,
    dim,
    examples: examples.map((e) => {
      if (e.model !== model || e.embedding.length !== dim) {
        throw new FewshotError('MODEL_MISMATCH', `Example ${e.id} is a ${e.model} embedding, not ${model}.`);
      }
      return { id: e.id, label: e.label, createdAt: e.createdAt, embedding: float32ToBase64(e.embedding) };
    }),
  };
}

/**
 * Parses and validates a document (object or JSON text). Every example is checked before any is returned,
 * so a bad document imports nothing.
 * @throws FewshotError `INVALID_FORMAT` for anything malformed, `MODEL_MISMATCH` when `expectModel` differs.
 */
export function decodeExamples(input: unknown, expectModel?: ModelName): StoredExample[] {
  let doc = input;
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc);
    } catch (cause) {
      throw new FewshotError('INVALID_FORMAT', 'Examples document is not valid JSON.', { cause });
    }
  }
  if (!isRecord(doc) || doc.format !== EXAMPLES_FORMAT) {
    throw new FewshotError('INVALID_FORMAT', `Not a ${EXAMPLES_FORMAT} document.`);
  }
  if (typeof doc.version !== 'number' || doc.version < 1 || doc.version > EXAMPLES_FORMAT_VERSION) {
    throw new FewshotError('INVALID_FORMAT', `Examples format version ${String(doc.version)} is not supported (this library reads 1..${EXAMPLES_FORMAT_VERSION}): upgrade fewshot-edge.`);
  }
  const model = doc.model;
  if (!isModelName(model)) throw new FewshotError('INVALID_FORMAT', `Unknown model ${JSON.stringify(model)} in examples document.`);
  const dim = MODELS[model].dim;
  if (doc.dim !== dim) throw new FewshotError('INVALID_FORMAT', `Document says dim ${String(doc.dim)}, but ${model} has ${dim}.`);
  if (expectModel !== undefined && model !== expectModel) {
    throw new FewshotError('MODEL_MISMATCH', `These examples were made with ${model}; this classifier uses ${expectModel}. Re-add the images with ${expectModel}, or open a classifier with model ${model}.`);
  }
  if (!Array.isArray(doc.examples)) throw new FewshotError('INVALID_FORMAT', 'Document has no examples array.');
  const seen = new Set<string>();
  return doc.examples.map((raw: unknown, index: number): StoredExample => {
    if (!isRecord(raw)) throw new FewshotError('INVALID_FORMAT', `Example ${index} is not an object.`);
    const where = `Example ${index}`;
    const id = rethrowAsFormat(where, () => checkExampleId(raw.id));
    if (seen.has(id)) throw new FewshotError('INVALID_FORMAT', `${where}: duplicate id ${id}.`);
    seen.add(id);
    const label = rethrowAsFormat(where, () => normalizeLabel(raw.label));
    const createdAt = typeof raw.createdAt === 'number' && Number.isFinite(raw.createdAt) ? raw.createdAt : 0;
    if (typeof raw.embedding !== 'string') throw new FewshotError('INVALID_FORMAT', `${where}: embedding must be a base64 string.`);
    const embedding = rethrowAsFormat(where, () => base64ToFloat32(raw.embedding as string));
    if (embedding.length !== dim) throw new FewshotError('INVALID_FORMAT', `${where}: embedding has ${embedding.length} values, expected ${dim}.`);
    if (!embedding.every(Number.isFinite)) throw new FewshotError('INVALID_FORMAT', `${where}: embedding contains NaN or infinity.`);
    return { id, label, model, embedding, createdAt };
  });
}

function rethrowAsFormat<T>(where: string, run: () => T): T {
  try {
    return run();
  } catch (cause) {
    throw new FewshotError('INVALID_FORMAT', `${where}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Little-endian float32 bytes in base64 (btoa/atob exist in Node, browsers and Workers). */
export function float32ToBase64(values: Float32Array): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function base64ToFloat32(text: string): Float32Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch (cause) {
    throw new FewshotError('INVALID_FORMAT', 'Embedding is not valid base64.', { cause });
  }
  if (binary.length % 4 !== 0) throw new FewshotError('INVALID_FORMAT', 'Embedding byte length is not a multiple of 4.');
  const view = new DataView(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) view.setUint8(i, binary.charCodeAt(i));
  const out = new Float32Array(binary.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
