import type { Calibration } from './calibration.js';
import { decodeExamples, encodeExamples, type ExamplesDocument, type StoredExample } from './codec.js';
import type { BackendRuntime, EmbedOptions, Embedder, ImageInput } from './embedder.js';
import { FewshotError } from './errors.js';
import { FewShotHead, unitVector, type ClassSummary, type HeadKind, type HeadMemo, type Prediction } from './head.js';
import { headOptions, type HeadSettings } from './head-defaults.js';
export type { HeadSettings } from './head-defaults.js';
import { normalizeLabel } from './labels.js';
import type { ModelName } from './models.js';
import { checkUserId, type ExampleStore } from './store.js';

export interface ClassifierParts<Input = ImageInput> {
  userId: string;
  embedder: Embedder<Input>;
  store: ExampleStore;
  head?: HeadSettings;
  /**
   * Average each image's embedding with its mirror image's (default true): about 1 point more 1-shot
   * accuracy (docs/ACCURACY.md) for about twice the embedding time (`npm run bench`). Turn off for the
   * fastest classify.
   */
  flip?: boolean;
  /**
   * For hosts that open a classifier per request from the same stored examples (the edge worker): what the
   * heads share between requests, so each change is transformed and calibrated once, not on every request.
   */
  memo?: HeadMemo;
}

/** What `addExample` returns. */
export interface AddedExample {
  id: string;
  label: string;
  /** Examples the class has now. */
  count: number;
}

/** What `info()` returns. */
export interface ClassifierInfo {
  userId: string;
  model: ModelName;
  dim: number;
  backend: string;
  /** Browser SDK: WASM threads in use (1 = single-threaded). */
  threads?: number;
  /** Browser SDK on WASM: the build that runs (`threaded-simd` on cross-origin isolated pages, else `simd`). */
  wasmBuild?: string;
  /** Browser SDK: backends that `auto` tried and could not start, with the reason; empty when the first one ran. */
  failedBackends?: { backend: string; reason: string }[];
  head: HeadKind;
  /** Whether embeddings average the image with its mirror image. */
  flip: boolean;
  /**
   * The softmax temperature and "unknown" threshold in force: the model's constants with one example per
   * class (`heldOut: 0`), fitted to the stored examples from two on (docs/ACCURACY.md).
   */
  calibration: Calibration;
  classes: number;
  examples: number;
}

/**
 * One user's few-shot classifier: `addExample(label, image)` then `classify(image)`.
 *
 * Data flows one way, input -> pixels -> embedding -> head -> result, with the store beside the head:
 * every change is written to the store first and applied to the in-memory head only once it is stored,
 * so a failed write never leaves the two disagreeing.
 */
export class FewShotClassifier<Input = ImageInput> {
  private constructor(
    readonly userId: string,
    private readonly embedder: Embedder<Input>,
    private readonly store: ExampleStore,
    private readonly head: FewShotHead,
    private readonly embedOptions: EmbedOptions,
  ) {}

  /**
   * Opens a user's classifier, loading the examples already stored for them.
   * @throws FewshotError `MODEL_MISMATCH` when the store holds another model's embeddings for this user.
   */
  static async open<Input = ImageInput>(parts: ClassifierParts<Input>): Promise<FewShotClassifier<Input>> {
    const userId = checkUserId(parts.userId);
    const head = new FewShotHead({ ...headOptions(parts.embedder.spec, parts.head ?? {}), memo: parts.memo });
    const classifier = new FewShotClassifier<Input>(userId, parts.embedder, parts.store, head, { flip: parts.flip ?? true });
    await classifier.reload();
    return classifier;
  }

  /**
   * Reads the user's examples from the store again, for changes made by someone else (another tab, another
   * process on the same store). Nothing changes when the read fails.
   * @throws FewshotError `MODEL_MISMATCH` when the store holds another model's embeddings for this user.
   */
  async reload(): Promise<void> {
    const spec = this.embedder.spec;
    const stored = await this.store.list(this.userId);
    const foreign = stored.find((e) => e.model !== spec.name || e.embedding.length !== spec.dim);
    if (foreign) {
      throw new FewshotError(
        'MODEL_MISMATCH',
        `User "${this.userId}" has examples made with ${foreign.model}, but this classifier uses ${spec.name}. ` +
          `Open it with model ${foreign.model}, or use another store or user for ${spec.name}.`,
      );
    }
    this.head.clear();
    for (const example of stored.sort(byAge)) this.head.add(example.id, example.label, example.embedding);
  }

  /** Learns one example of `label` from an image. One is enough; up to five per class helps. */
  async addExample(label: string, image: Input): Promise<AddedExample> {
    const [added] = await this.addExamples(label, [image]);
    return added as AddedExample;
  }

  /** Learns several images of one label, embedded as a batch. All are validated before any is stored. */
  async addExamples(label: string, images: readonly Input[]): Promise<AddedExample[]> {
    const canonical = normalizeLabel(label);
    const embeddings = await this.embedder.embedBatch(images, this.embedOptions);
    return this.addEmbeddings(canonical, embeddings);
  }

  /**
   * Learns from embeddings computed elsewhere with the same model (hybrid mode: the device embeds, the
   * edge stores), so photos never have to leave the device.
   */
  async addEmbedding(label: string, embedding: ArrayLike<number>): Promise<AddedExample> {
    const [added] = await this.addEmbeddings(normalizeLabel(label), [Float32Array.from(embedding)]);
    return added as AddedExample;
  }

  private async addEmbeddings(label: string, embeddings: readonly Float32Array[]): Promise<AddedExample[]> {
    const { name } = this.embedder.spec;
    const now = Date.now();
    const examples: StoredExample[] = embeddings.map((embedding) => ({
      id: crypto.randomUUID(),
      label,
      model: name,
      embedding,
      createdAt: now,
    }));
    for (const e of examples) unitVector(e.embedding, this.head.dim); // all checked before anything is stored
    await this.store.put(this.userId, examples);
    const before = this.countOf(label);
    return examples.map((e, i) => {
      this.head.add(e.id, e.label, e.embedding);
      return { id: e.id, label, count: before + i + 1 };
    });
  }

  /**
   * Classifies an image against this user's classes.
   * @throws FewshotError `NO_CLASSES` before the first example, image errors for bad input.
   */
  async classify(image: Input): Promise<Prediction> {
    this.requireClasses();
    return this.head.classify(await this.embedder.embed(image, this.embedOptions));
  }

  /** Classifies many images, embedded as batches. */
  async classifyMany(images: readonly Input[]): Promise<Prediction[]> {
    this.requireClasses();
    const embeddings = await this.embedder.embedBatch(images, this.embedOptions);
    return embeddings.map((e) => this.head.classify(e));
  }

  /** Classifies an embedding computed elsewhere with the same model. */
  classifyEmbedding(embedding: ArrayLike<number>): Prediction {
    return this.head.classify(embedding);
  }

  /** Embeds an image without learning it (for hybrid mode or your own processing). */
  embed(image: Input): Promise<Float32Array> {
    return this.embedder.embed(image, this.embedOptions);
  }

  /** Forgets one example. Returns false when no example has that id. */
  async removeExample(id: string): Promise<boolean> {
    if (!this.head.has(id)) return false;
    await this.store.delete(this.userId, [id]);
    return this.head.remove(id);
  }

  /**
   * Forgets a class and all its examples; returns how many were removed.
   * @throws FewshotError `NOT_FOUND` when there is no such class.
   */
  async removeClass(label: string): Promise<number> {
    const canonical = normalizeLabel(label);
    const ids = this.head.idsOf(canonical);
    if (ids.length === 0) throw new FewshotError('NOT_FOUND', `There is no class "${canonical}".`);
    await this.store.delete(this.userId, ids);
    for (const id of ids) this.head.remove(id);
    return ids.length;
  }

  /** Forgets every class of this user. */
  async clear(): Promise<void> {
    await this.store.clear(this.userId);
    this.head.clear();
  }

  /** The classes learnt so far, with example counts, in the order they were first added. */
  listClasses(): ClassSummary[] {
    return this.head.listClasses();
  }

  /** All of this user's examples in the portable, versioned format (see `ExamplesDocument`), oldest first. */
  async export(): Promise<ExamplesDocument> {
    return encodeExamples(this.embedder.spec.name, (await this.store.list(this.userId)).sort(byAge));
  }

  /**
   * Adds the examples of an exported document (object or JSON text). The whole document is validated
   * first: a malformed one, or one made with another model, imports nothing. Examples whose id is already
   * present are skipped, so importing twice is harmless. Returns how many were added.
   */
  async import(document: ExamplesDocument | string): Promise<number> {
    const incoming = decodeExamples(document, this.embedder.spec.name).filter((e) => !this.head.has(e.id));
    await this.store.put(this.userId, incoming);
    for (const e of incoming) this.head.add(e.id, e.label, e.embedding);
    return incoming.length;
  }

  info(): ClassifierInfo {
    return {
      userId: this.userId,
      model: this.embedder.spec.name,
      dim: this.embedder.spec.dim,
      backend: this.embedder.backend,
      ...(this.embedder.runtime ? runtimeInfo(this.embedder.runtime) : {}),
      head: this.head.kind,
      flip: this.embedOptions.flip === true,
      calibration: this.head.calibration,
      classes: this.head.listClasses().length,
      examples: this.head.size,
    };
  }

  private countOf(label: string): number {
    return this.head.listClasses().find((c) => c.label === label)?.count ?? 0;
  }

  private requireClasses(): void {
    if (this.head.size === 0) {
      throw new FewshotError('NO_CLASSES', 'No classes yet: add at least one example with addExample(label, image) first.');
    }
  }
}

/** Oldest first, ties by id: the order classes appear in, the same from every store. */
function byAge(a: StoredExample, b: StoredExample): number {
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1);
}

/** A copy of the platform's backend details for `info()`, so callers cannot change the embedder's. */
function runtimeInfo(runtime: BackendRuntime): Pick<ClassifierInfo, 'threads' | 'wasmBuild' | 'failedBackends'> {
  return {
    threads: runtime.threads,
    ...(runtime.wasmBuild ? { wasmBuild: runtime.wasmBuild } : {}),
    failedBackends: runtime.failedBackends.map((f) => ({ ...f })),
  };
}
