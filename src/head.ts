import { fitTemperature, fitThreshold, type Calibration, type CalibrationMemo, type HeldOutScore } from './calibration.js';
import { FewshotError } from './errors.js';

/** How a query is matched against the stored examples. */
export type HeadKind = 'prototype' | 'knn';

export interface HeadOptions {
  /** Embedding length; every example and query must have it. */
  dim: number;
  /**
   * `prototype` (default): one mean vector per class, the strongest choice at 1 to 5 shots (Snell et al.,
   * "Prototypical Networks for Few-shot Learning", 2017). `knn`: the k nearest stored examples vote.
   */
  kind?: HeadKind;
  /** Neighbours that vote with `kind: 'knn'`. Default 10; votes are weighted by similarity, so a large k is safe. */
  k?: number;
  /** Softmax temperature over cosine similarities; smaller is sharper. Chosen per model (see `ModelSpec`). */
  temperature: number;
  /** How the temperature grows with many classes of few examples (see `adaptiveTemperature`). Default 0. */
  temperatureGrowth?: number;
  /**
   * Cosine similarity below which the answer is `unknown: true`. `null` (default) never answers unknown.
   */
  unknownThreshold?: number | null;
  /** How embeddings are mapped before comparison. Default: none (plain cosine). */
  transform?: FeatureTransform;
  /**
   * Adapts the temperature and the "unknown" threshold to the stored examples (prototype head; see
   * src/calibration.ts): the weight, in held-out examples, of `temperature` and `unknownThreshold` against a
   * leave-one-out over the examples of classes that have two or more. `null` (default) keeps them fixed.
   */
  calibrationWeight?: number | null;
  /**
   * With `calibrationWeight`: the fitted "unknown" threshold sits this many standard deviations under the
   * held-out examples' similarities to their own class. `null` (default) keeps `unknownThreshold` fixed.
   */
  unknownSpread?: number | null;
  /** What heads built again and again from the same examples share (see {@link HeadMemo}). */
  memo?: HeadMemo;
}

/**
 * For a host that builds a new head for every request from the same stored examples (the edge worker): what
 * those heads compute alike, kept between them.
 */
export interface HeadMemo {
  /** Fitted calibrations, by a key of the head's constants and stored vectors. */
  calibrations?: CalibrationMemo;
  /**
   * Transformed unit vectors of added examples by the raw embedding array they were made from, with the power
   * they were made with and, once a calibration memo needed it, the hash of their bits. The host promises
   * never to change an array once it has given it to a head.
   */
  prepared?: WeakMap<object, PreparedVector>;
}

/** An example's transformed unit vector, as {@link HeadMemo.prepared} keeps it. */
export interface PreparedVector {
  power: number;
  vector: Float32Array;
  hash?: VectorHash;
}

/**
 * Held-out similarities (examples x classes) computed at most when refitting the calibration: bounds its cost
 * whatever the store's size (about 2,000 dot products, a few ms at 1280-d), once after each change. Every
 * setting of the leave-one-domain-out evaluation stays within it (20 classes of 5 examples: 100 x 20).
 */
const MAX_HELD_OUT_SIMILARITIES = 2000;

/**
 * Training-free feature post-processing, applied to stored examples and queries alike:
 * 1. power transform x -> sign(x) |x|^power of the embedding, then L2 normalisation
 *    (Tukey's ladder as used by Hu, Gripon & Pateux, "Leveraging the Feature Distribution in Transfer-based
 *    Few-Shot Learning", 2021);
 * 2. centring before a second L2 normalisation (SimpleShot's CL2N: Wang et al., "SimpleShot: Revisiting
 *    Nearest-Neighbor Classification for Few-Shot Learning", 2019). The centre is a shrinkage estimate: the
 *    mean of the user's own examples blended with a reference mean shipped with the model, which counts as
 *    `prior` examples, so one or two stored examples cannot pull the centre onto themselves.
 * Stored embeddings stay raw, so the transform can change without touching anyone's data.
 */
export interface FeatureTransform {
  /** Exponent of the power transform; 1 turns it off. */
  power: number;
  /** Mean of power-transformed, L2-normalised reference embeddings; `null` turns centring off. */
  referenceMean: Float32Array | null;
  /** Weight of the reference mean, in examples, against the user's stored examples. */
  prior: number;
}

/** One class's probability in a {@link Prediction}. */
export interface Score {
  label: string;
  score: number;
}

/** The answer to `classify`. */
export interface Prediction {
  /** The best-matching class. Still the nearest class when `unknown` is true, so apps can show "maybe X". */
  label: string;
  /** Probability of `label` (temperature-scaled softmax over cosine similarities), 0..1. */
  confidence: number;
  /** True when the best cosine similarity is under `unknownThreshold`: "none of the above". */
  unknown: boolean;
  /** Cosine similarity of the query to the best class prototype (or nearest neighbour with k-NN), -1..1. */
  similarity: number;
  /** Every class with its probability, best first; the scores sum to 1. */
  scores: Score[];
}

/** A class and how many examples it has. */
export interface ClassSummary {
  label: string;
  count: number;
}

/** Per-class running state: the sum of its normalised examples and their number. */
interface ClassState {
  readonly label: string;
  readonly sum: Float64Array;
  count: number;
  /** Row in the prototype matrix. */
  row: number;
}

/**
 * The few-shot classifier over embeddings: plain TypeScript on Float32Arrays, no tensors.
 *
 * Examples are L2-normalised on entry and kept in one contiguous matrix, so a k-NN scan is a single pass
 * over memory; class prototypes (normalised class means) are updated incrementally on every add/remove,
 * so prototype classification costs one dot product per class whatever the number of examples.
 */
export class FewShotHead {
  readonly dim: number;
  readonly kind: HeadKind;
  readonly k: number;
  readonly temperature: number;
  readonly temperatureGrowth: number;
  readonly unknownThreshold: number | null;
  readonly transform: FeatureTransform | null;
  readonly calibrationWeight: number | null;
  readonly unknownSpread: number | null;

  /** The temperature and threshold fitted on the stored examples; `null` until refreshed or without adaptation. */
  private fitted: Calibration | null = null;
  private readonly memo: HeadMemo | undefined;
  /** The constants a fit depends on, as part of its memo key. */
  private readonly constantsKey: string;
  /** Sum of all stored (transformed, unit) vectors: with the reference mean it gives the centre. */
  private total: Float64Array;
  /** The centre and per-row dot products with it, recomputed lazily after examples change. */
  private centre: Float32Array | null = null;
  private rowCentreDot = new Float64Array(0);
  private centreNormSq = 0;
  private stale = true;
  private vectors: Float32Array;
  private rowIds: string[] = [];
  private rowClass: ClassState[] = [];
  /** Per row, the hash of its vector's bits: kept only with a calibration memo, whose key they make. */
  private rowHashes: VectorHash[] = [];
  private readonly rowById = new Map<string, number>();
  private readonly classes = new Map<string, ClassState>();
  private classOrder: ClassState[] = [];
  private prototypes: Float32Array;

  constructor(options: HeadOptions) {
    const { dim, temperature } = options;
    if (!Number.isInteger(dim) || dim <= 0) throw new FewshotError('INVALID_ARGUMENT', `dim must be a positive integer, got ${dim}.`);
    if (!(temperature > 0)) throw new FewshotError('INVALID_ARGUMENT', `temperature must be > 0, got ${temperature}.`);
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1) throw new FewshotError('INVALID_ARGUMENT', `k must be a positive integer, got ${k}.`);
    const threshold = options.unknownThreshold ?? null;
    if (threshold !== null && !(threshold >= -1 && threshold <= 1)) {
      throw new FewshotError('INVALID_ARGUMENT', `unknownThreshold must be a cosine similarity in [-1, 1] or null, got ${threshold}.`);
    }
    const kind = options.kind ?? 'prototype';
    if (kind !== 'prototype' && kind !== 'knn') throw new FewshotError('INVALID_ARGUMENT', `Unknown head kind "${String(kind)}".`);
    this.dim = dim;
    this.kind = kind;
    this.k = k;
    this.temperature = temperature;
    this.temperatureGrowth = options.temperatureGrowth ?? 0;
    if (!(this.temperatureGrowth >= 0)) throw new FewshotError('INVALID_ARGUMENT', `temperatureGrowth must be >= 0, got ${this.temperatureGrowth}.`);
    this.unknownThreshold = threshold;
    this.transform = checkTransform(options.transform ?? null, dim);
    this.calibrationWeight = options.calibrationWeight ?? null;
    if (this.calibrationWeight !== null && !(this.calibrationWeight > 0)) {
      throw new FewshotError('INVALID_ARGUMENT', `calibrationWeight must be > 0 or null, got ${this.calibrationWeight}.`);
    }
    this.unknownSpread = options.unknownSpread ?? null;
    if (this.unknownSpread !== null && !Number.isFinite(this.unknownSpread)) {
      throw new FewshotError('INVALID_ARGUMENT', `unknownSpread must be a number or null, got ${this.unknownSpread}.`);
    }
    this.memo = options.memo;
    const t = this.transform;
    const mean = t?.referenceMean && this.memo?.calibrations ? referenceMeanKey(t.referenceMean) : 'none';
    this.constantsKey = [this.temperature, this.temperatureGrowth, threshold, this.unknownSpread, this.calibrationWeight, t?.power, t?.prior, mean].join(',');
    this.total = new Float64Array(dim);
    this.vectors = new Float32Array(dim * 64);
    this.prototypes = new Float32Array(dim * 8);
  }

  /** Number of stored examples. */
  get size(): number {
    return this.rowIds.length;
  }

  /** Classes in the order they were first seen, with their example counts. */
  listClasses(): ClassSummary[] {
    return this.classOrder.map((c) => ({ label: c.label, count: c.count }));
  }

  has(id: string): boolean {
    return this.rowById.has(id);
  }

  /**
   * Adds one example. The label must already be normalised (see `normalizeLabel`).
   * @throws FewshotError `MODEL_MISMATCH` on a wrong dimension, `INVALID_EMBEDDING` on NaN/zero vectors,
   *   `INVALID_ARGUMENT` on a duplicate id.
   */
  add(id: string, label: string, embedding: ArrayLike<number>): void {
    if (this.rowById.has(id)) throw new FewshotError('INVALID_ARGUMENT', `An example with id "${id}" already exists.`);
    const prepared = this.prepare(embedding, true);
    const unit = prepared.vector;
    const row = this.rowIds.length;
    if (this.memo?.calibrations) this.rowHashes.push((prepared.hash ??= hashVector(unit)));
    this.vectors = grow(this.vectors, (row + 1) * this.dim);
    this.vectors.set(unit, row * this.dim);
    const state = this.classes.get(label) ?? this.newClass(label);
    this.rowIds.push(id);
    this.rowClass.push(state);
    this.rowById.set(id, row);
    for (let d = 0; d < this.dim; d++) {
      (state.sum[d] as number) += unit[d] as number;
      (this.total[d] as number) += unit[d] as number;
    }
    state.count++;
    this.stale = true;
  }

  /** Removes one example by id; returns false when there is none. Its class goes when it was the last one. */
  remove(id: string): boolean {
    const row = this.rowById.get(id);
    if (row === undefined) return false;
    const state = this.rowClass[row] as ClassState;
    const base = row * this.dim;
    for (let d = 0; d < this.dim; d++) {
      (state.sum[d] as number) -= this.vectors[base + d] as number;
      (this.total[d] as number) -= this.vectors[base + d] as number;
    }
    state.count--;
    if (state.count === 0) this.dropClass(state);
    this.stale = true;
    // Swap the last row into the hole so the matrix stays contiguous.
    const last = this.rowIds.length - 1;
    if (row !== last) {
      this.vectors.copyWithin(base, last * this.dim, (last + 1) * this.dim);
      const movedId = this.rowIds[last] as string;
      this.rowIds[row] = movedId;
      this.rowClass[row] = this.rowClass[last] as ClassState;
      if (this.rowHashes.length) this.rowHashes[row] = this.rowHashes[last] as VectorHash;
      this.rowById.set(movedId, row);
    }
    this.rowIds.pop();
    this.rowClass.pop();
    this.rowHashes.pop();
    this.rowById.delete(id);
    return true;
  }

  /** Ids of the examples of one class (empty when the class does not exist). */
  idsOf(label: string): string[] {
    const state = this.classes.get(label);
    return state ? this.rowIds.filter((_, row) => this.rowClass[row] === state) : [];
  }

  /** Forgets everything. */
  clear(): void {
    this.rowIds = [];
    this.rowClass = [];
    this.rowHashes = [];
    this.rowById.clear();
    this.classes.clear();
    this.classOrder = [];
    this.total.fill(0);
    this.stale = true;
  }

  /**
   * Classifies one embedding.
   * @throws FewshotError `NO_CLASSES` when nothing has been added, `MODEL_MISMATCH` / `INVALID_EMBEDDING` on a bad vector.
   */
  classify(embedding: ArrayLike<number>): Prediction {
    if (this.classOrder.length === 0) {
      throw new FewshotError('NO_CLASSES', 'No classes yet: add at least one example with addExample(label, image) first.');
    }
    this.refresh();
    const query = this.centred(this.prepare(embedding).vector);
    const { probabilities, similarity } = this.kind === 'prototype' ? this.byPrototype(query) : this.byNeighbours(query);
    const scores = this.classOrder.map((c, i) => ({ label: c.label, score: probabilities[i] as number }));
    scores.sort((a, b) => b.score - a.score);
    const best = scores[0] as Score;
    const threshold = this.currentThreshold();
    return {
      label: best.label,
      confidence: best.score,
      unknown: threshold !== null && similarity < threshold,
      similarity,
      scores,
    };
  }

  private byPrototype(query: Float32Array): { probabilities: Float64Array; similarity: number } {
    const sims = this.similaritiesTo(query);
    return { probabilities: softmax(sims, this.currentTemperature()), similarity: maxOf(sims) };
  }

  /**
   * Soft k-NN: the k most similar examples vote for their class with weight exp(cos / T), so votes are a
   * softmax over the neighbours (Salakhutdinov & Hinton 2007; Frosst et al. 2019, "soft nearest neighbour").
   */
  private byNeighbours(query: Float32Array): { probabilities: Float64Array; similarity: number } {
    const k = Math.min(this.k, this.size);
    const topSims = new Float64Array(k).fill(-Infinity);
    const topRows = new Int32Array(k);
    // With centring, cos(x - c, q') = (x.q' - c.q') / |x - c| for a unit, centred query q'; |x - c| comes
    // from the cached x.c, so the scan stays one dot product per row.
    const centre = this.centre;
    const centreDotQuery = centre ? dot(query, centre, 0, this.dim) : 0;
    for (let row = 0; row < this.size; row++) {
      let sim = dot(query, this.vectors, row * this.dim, this.dim);
      if (centre) sim = (sim - centreDotQuery) / Math.sqrt(Math.max(1e-12, 1 - 2 * (this.rowCentreDot[row] as number) + this.centreNormSq));
      if (sim <= (topSims[k - 1] as number)) continue;
      let i = k - 1;
      while (i > 0 && (topSims[i - 1] as number) < sim) {
        topSims[i] = topSims[i - 1] as number;
        topRows[i] = topRows[i - 1] as number;
        i--;
      }
      topSims[i] = sim;
      topRows[i] = row;
    }
    const votes = new Float64Array(this.classOrder.length);
    const best = topSims[0] as number;
    const temperature = this.currentTemperature();
    for (let i = 0; i < k; i++) {
      const state = this.rowClass[topRows[i] as number] as ClassState;
      (votes[state.row] as number) += Math.exp(((topSims[i] as number) - best) / temperature);
    }
    let total = 0;
    for (const v of votes) total += v;
    for (let c = 0; c < votes.length; c++) (votes[c] as number) /= total;
    return { probabilities: votes, similarity: best };
  }

  /** The temperature for the classes and examples stored now: fitted on them, else the prior rule. */
  private currentTemperature(): number {
    return this.fitted?.temperature ?? this.priorTemperature();
  }

  private priorTemperature(): number {
    const classes = this.classOrder.length;
    return adaptiveTemperature(this.temperature, this.temperatureGrowth, classes, this.size / classes);
  }

  private currentThreshold(): number | null {
    return this.fitted ? this.fitted.unknownThreshold : this.unknownThreshold;
  }

  /** The softmax temperature and "unknown" threshold in force for the examples stored now. */
  get calibration(): Calibration {
    if (this.classOrder.length === 0) return { temperature: this.temperature, unknownThreshold: this.unknownThreshold, heldOut: 0 };
    this.refresh();
    return { temperature: this.currentTemperature(), unknownThreshold: this.currentThreshold(), heldOut: this.fitted?.heldOut ?? 0 };
  }

  /**
   * Similarities of a query to every class prototype, in `listClasses()` order, before the softmax: what
   * `classify` ranks (research and evaluation scripts fit calibration rules on them).
   */
  prototypeSimilarities(embedding: ArrayLike<number>): Float64Array {
    if (this.classOrder.length === 0) throw new FewshotError('NO_CLASSES', 'No classes yet.');
    this.refresh();
    return this.similaritiesTo(this.centred(this.prepare(embedding).vector));
  }

  /** Cosine of a prepared, centred unit vector to every prototype, in class order. */
  private similaritiesTo(query: Float32Array): Float64Array {
    const sims = new Float64Array(this.classOrder.length);
    for (let c = 0; c < sims.length; c++) sims[c] = dot(query, this.prototypes, c * this.dim, this.dim);
    return sims;
  }

  /**
   * Leave-one-out over the stored examples whose class has two or more: each scored against every
   * prototype, its own class's recomputed without it (at most 2,000 / classes examples, spread evenly over
   * the store).
   * The centre keeps every example: with the reference mean's weight, one example moves it very little.
   */
  heldOutScores(): HeldOutScore[] {
    this.refresh();
    const rows: number[] = [];
    for (let row = 0; row < this.size; row++) if ((this.rowClass[row] as ClassState).count >= 2) rows.push(row);
    const limit = Math.max(1, Math.floor(MAX_HELD_OUT_SIMILARITIES / this.classOrder.length));
    const stride = Math.max(1, rows.length / limit);
    const out: HeldOutScore[] = [];
    const own = new Float64Array(this.dim);
    for (let i = 0; i < rows.length && out.length < limit; i += stride) {
      const row = rows[Math.floor(i)] as number;
      const state = this.rowClass[row] as ClassState;
      const base = row * this.dim;
      const query = this.centred(this.vectors.slice(base, base + this.dim));
      const sims = this.similaritiesTo(query);
      let norm = 0;
      let projection = 0;
      for (let d = 0; d < this.dim; d++) {
        own[d] = ((state.sum[d] as number) - (this.vectors[base + d] as number)) / (state.count - 1) - (this.centre ? (this.centre[d] as number) : 0);
        norm += (own[d] as number) ** 2;
        projection += (own[d] as number) * (query[d] as number);
      }
      sims[state.row] = norm > 0 ? projection / Math.sqrt(norm) : 0;
      out.push({ sims, truth: state.row });
    }
    return out;
  }

  /**
   * Power transform and L2 normalisation of a raw embedding (validated). An example being added (`stored`) is
   * looked up in the memo and kept there; a query never comes back, so it is not.
   */
  private prepare(embedding: ArrayLike<number>, stored = false): PreparedVector {
    const power = this.transform?.power ?? 1;
    const memo = stored && typeof embedding === 'object' ? this.memo?.prepared : undefined;
    const known = memo?.get(embedding);
    if (known && known.power === power && known.vector.length === this.dim) return known;
    const prepared: PreparedVector = { power, vector: this.transformed(embedding, power) };
    memo?.set(embedding, prepared);
    return prepared;
  }

  private transformed(embedding: ArrayLike<number>, power: number): Float32Array {
    const unit = unitVector(embedding, this.dim);
    if (power === 1) return unit;
    for (let d = 0; d < this.dim; d++) {
      const x = unit[d] as number;
      // sqrt for the usual 0.5: a third of the cost of a general power, which the worker pays per example per request.
      const magnitude = power === 0.5 ? Math.sqrt(Math.abs(x)) : Math.abs(x) ** power;
      unit[d] = x < 0 ? -magnitude : magnitude;
    }
    return unitVector(unit, this.dim);
  }

  /** A prepared vector minus the centre, normalised (unchanged without centring). */
  private centred(vector: Float32Array): Float32Array {
    const centre = this.centre;
    if (!centre) return vector;
    const out = new Float32Array(this.dim);
    let norm = 0;
    for (let d = 0; d < this.dim; d++) {
      out[d] = (vector[d] as number) - (centre[d] as number);
      norm += (out[d] as number) ** 2;
    }
    // A vector at the centre has no direction; keep it as it was rather than divide by zero.
    if (!(norm > 1e-20)) return vector;
    const scale = 1 / Math.sqrt(norm);
    for (let d = 0; d < this.dim; d++) (out[d] as number) *= scale;
    return out;
  }

  /** Recomputes the centre and every prototype after examples changed: O(classes x dim), plus O(rows x dim) for k-NN. */
  private refresh(): void {
    if (!this.stale) return;
    this.stale = false;
    const t = this.transform;
    if (t?.referenceMean) {
      const n = this.size;
      const centre = new Float32Array(this.dim);
      for (let d = 0; d < this.dim; d++) centre[d] = ((this.total[d] as number) + t.prior * (t.referenceMean[d] as number)) / (n + t.prior);
      this.centre = centre;
      this.centreNormSq = dot(centre, centre, 0, this.dim);
      if (this.kind === 'knn') {
        this.rowCentreDot = new Float64Array(n);
        for (let row = 0; row < n; row++) this.rowCentreDot[row] = dot(centre, this.vectors, row * this.dim, this.dim);
      }
    } else {
      this.centre = null;
    }
    for (const state of this.classOrder) this.refreshPrototype(state);
    this.fitted = null;
    const weight = this.calibrationWeight;
    if (weight !== null && this.kind === 'prototype' && this.classOrder.length >= 2) {
      const memo = this.memo?.calibrations;
      const key = memo && this.fitKey();
      const remembered = key === undefined ? undefined : memo?.get(key);
      if (remembered) {
        this.fitted = remembered;
        return;
      }
      const heldOut = this.heldOutScores();
      if (heldOut.length > 0) {
        const { unknownThreshold: threshold, unknownSpread: spread } = this;
        this.fitted = {
          temperature: fitTemperature(heldOut, this.priorTemperature(), weight),
          unknownThreshold: threshold === null || spread === null ? threshold : fitThreshold(heldOut, threshold, weight, spread),
          heldOut: heldOut.length,
        };
        if (key !== undefined) memo?.set(key, this.fitted);
      }
    }
  }

  /**
   * What the calibration fit depends on, as a short key: the head's constants, and a hash of every row's
   * vector hash (made once per vector, see `add`) and class. O(rows), not O(rows x dim).
   */
  private fitKey(): string {
    const words = new Uint32Array(this.size * 3);
    for (let row = 0; row < this.size; row++) {
      const [a, b] = this.rowHashes[row] as VectorHash;
      words.set([a, b, (this.rowClass[row] as ClassState).row], row * 3);
    }
    return `${this.constantsKey}|${this.size}x${this.dim}|${hashWords(words).join('.')}`;
  }

  /**
   * Mean cosine similarity between the prototypes of two different classes: how alike this user's classes
   * are (NaN below two classes). Computed on demand, off the classify path.
   */
  get affinity(): number {
    this.refresh();
    const count = this.classOrder.length;
    if (count < 2) return NaN;
    // Unit prototypes: the sum of all pairwise cosines is |sum p|^2 - C, so the mean costs O(C x dim).
    const sum = new Float64Array(this.dim);
    for (let c = 0; c < count; c++) for (let d = 0; d < this.dim; d++) (sum[d] as number) += this.prototypes[c * this.dim + d] as number;
    return (sum.reduce((a, x) => a + x * x, 0) - count) / (count * (count - 1));
  }

  private newClass(label: string): ClassState {
    const state: ClassState = { label, sum: new Float64Array(this.dim), count: 0, row: this.classOrder.length };
    this.classes.set(label, state);
    this.classOrder.push(state);
    this.prototypes = grow(this.prototypes, this.classOrder.length * this.dim);
    return state;
  }

  private dropClass(state: ClassState): void {
    this.classes.delete(state.label);
    this.classOrder.splice(state.row, 1);
    this.classOrder.forEach((c, row) => (c.row = row));
  }

  /**
   * The prototype is the class mean minus the centre, normalised; cosine to it ranks like the distance to
   * the centred mean.
   */
  private refreshPrototype(state: ClassState): void {
    const base = state.row * this.dim;
    const centre = this.centre;
    let norm = 0;
    for (let d = 0; d < this.dim; d++) {
      const v = (state.sum[d] as number) / state.count - (centre ? (centre[d] as number) : 0);
      this.prototypes[base + d] = v;
      norm += v * v;
    }
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let d = 0; d < this.dim; d++) (this.prototypes[base + d] as number) *= scale;
  }
}

/** Two independent 32-bit hashes of some bits: 64 bits, so unrelated sets of examples never share a key in practice. */
type VectorHash = readonly [number, number];

/** FNV-1a and a murmur-style mix over 32-bit words. */
function hashWords(words: Uint32Array): VectorHash {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < words.length; i++) {
    const v = words[i] as number;
    a = Math.imul(a ^ v, 0x01000193);
    b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 15);
  }
  return [a >>> 0, b >>> 0];
}

/** Hashes of the reference means heads were given: the model's one array, hashed once, not per head (per request in the worker). */
const referenceMeanKeys = new WeakMap<Float32Array, string>();

function referenceMeanKey(mean: Float32Array): string {
  let key = referenceMeanKeys.get(mean);
  if (key === undefined) referenceMeanKeys.set(mean, (key = hashVector(mean).join('.')));
  return key;
}

/** {@link hashWords} of a float vector's bits. */
function hashVector(values: Float32Array): VectorHash {
  return hashWords(new Uint32Array(values.buffer, values.byteOffset, values.length));
}

function checkTransform(transform: FeatureTransform | null, dim: number): FeatureTransform | null {
  if (!transform) return null;
  const { power, referenceMean, prior } = transform;
  if (!(power > 0 && power <= 1)) throw new FewshotError('INVALID_ARGUMENT', `transform.power must be in (0, 1], got ${power}.`);
  if (!(prior >= 0)) throw new FewshotError('INVALID_ARGUMENT', `transform.prior must be >= 0, got ${prior}.`);
  if (referenceMean && referenceMean.length !== dim) {
    throw new FewshotError('MODEL_MISMATCH', `The reference mean has ${referenceMean.length} dimensions, the model ${dim}.`);
  }
  return transform;
}

/**
 * The embedding scaled to unit length, after checking it can be one.
 * @throws FewshotError `MODEL_MISMATCH` on a wrong dimension, `INVALID_EMBEDDING` on NaN, infinite or zero vectors.
 */
export function unitVector(embedding: ArrayLike<number>, dim: number): Float32Array {
  if (embedding.length !== dim) {
    throw new FewshotError(
      'MODEL_MISMATCH',
      `Embedding has ${embedding.length} dimensions, this classifier's model has ${dim}: embeddings of different models cannot be mixed.`,
    );
  }
  let norm = 0;
  for (let d = 0; d < dim; d++) norm += (embedding[d] as number) ** 2;
  if (!Number.isFinite(norm) || norm === 0) {
    throw new FewshotError('INVALID_EMBEDDING', 'The embedding contains NaN or infinite values, or is all zeros.');
  }
  const scale = 1 / Math.sqrt(norm);
  const unit = new Float32Array(dim);
  for (let d = 0; d < dim; d++) unit[d] = (embedding[d] as number) * scale;
  return unit;
}

function dot(query: Float32Array, matrix: Float32Array, offset: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  // Four accumulators break the dependency chain so the JIT can overlap the multiplies.
  for (; d + 3 < dim; d += 4) {
    s0 += (query[d] as number) * (matrix[offset + d] as number);
    s1 += (query[d + 1] as number) * (matrix[offset + d + 1] as number);
    s2 += (query[d + 2] as number) * (matrix[offset + d + 2] as number);
    s3 += (query[d + 3] as number) * (matrix[offset + d + 3] as number);
  }
  for (; d < dim; d++) s0 += (query[d] as number) * (matrix[offset + d] as number);
  return s0 + s1 + s2 + s3;
}

/** Numerically stable softmax of x / temperature. */
export function softmax(values: ArrayLike<number>, temperature: number): Float64Array {
  const max = maxOf(values);
  const out = new Float64Array(values.length);
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    out[i] = Math.exp(((values[i] as number) - max) / temperature);
    total += out[i] as number;
  }
  for (let i = 0; i < out.length; i++) (out[i] as number) /= total;
  return out;
}

function maxOf(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i] as number);
  return max;
}

/** Returns `array` or a copy with at least `length` elements (doubling, so appends are amortised O(1)). */
function grow(array: Float32Array, length: number): Float32Array {
  if (array.length >= length) return array;
  const next = new Float32Array(Math.max(length, array.length * 2));
  next.set(array);
  return next;
}

/**
 * The softmax temperature for `classes` classes with `shots` examples each on average: `base` at five
 * classes or fewer, growing by `growth * ln(classes / 5) / shots` beyond. Measured on the development data
 * (`npm run calibrate`): with one example per class, similarities to the best of many classes are
 * relatively too sharp, and more examples make prototypes reliable enough that the effect fades.
 */
export function adaptiveTemperature(base: number, growth: number, classes: number, shots: number): number {
  return base + (growth * Math.max(0, Math.log(classes / 5))) / Math.max(1, shots);
}
