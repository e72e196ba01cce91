/**
 * Stored examples for the classify benchmark: real-looking embeddings without embedding 100,000 images.
 *
 * Each class centre is a real MobileNet embedding of one Caltech image (unit length) plus a class-specific
 * Gaussian offset (norm ~0.5), so classes built on the same picture still differ; each example is its
 * class centre plus per-example noise (norm ~0.3), a window at a random offset of a pool of 2^20
 * Gaussian samples (drawing 128 M fresh samples for 100,000 x 1280 would take longer than the benchmark
 * it feeds). Seeded generators make the vectors identical for both sides and across child processes. Examples arrive round-robin over the classes, the way a store
 * fills when users add examples of many classes over time.
 */
import { seededRandom as rng } from '../src/episodes.js';

/** Classes the stored examples are spread over (N = 100 means one shot per class). */
export const CLASS_COUNT = 100;
const CLASS_OFFSET_NORM = 0.5;
const EXAMPLE_NOISE_NORM = 0.3;
const NOISE_POOL_SIZE = 1 << 20;

/** Standard normal samples (Box-Muller). */
function gaussian(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function unit(vector: ArrayLike<number>): Float32Array {
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += (vector[i] as number) ** 2;
  const scale = 1 / Math.sqrt(norm);
  return Float32Array.from(vector, (v) => v * scale);
}

export class VectorSource {
  readonly dim: number;
  private readonly centres: Float32Array[];
  private readonly pool: Float32Array;
  private readonly random: () => number;

  /** `bases`: real embeddings (any count >= 1), reused round-robin as class centres. */
  constructor(bases: readonly ArrayLike<number>[], seed = 42) {
    if (bases.length === 0) throw new Error('VectorSource needs at least one base embedding.');
    this.dim = (bases[0] as ArrayLike<number>).length;
    const classNoise = gaussian(rng(seed));
    const sigma = CLASS_OFFSET_NORM / Math.sqrt(this.dim);
    this.centres = Array.from({ length: CLASS_COUNT }, (_, c) => {
      const centre = unit(bases[c % bases.length] as ArrayLike<number>);
      for (let d = 0; d < this.dim; d++) (centre[d] as number) += classNoise() * sigma;
      return centre;
    });
    const poolNoise = gaussian(rng(seed + 1));
    this.pool = Float32Array.from({ length: NOISE_POOL_SIZE }, poolNoise);
    this.random = rng(seed + 2);
  }

  /** Label of the i-th stored example (round-robin over the classes). */
  labelOf(index: number): string {
    return `class-${index % CLASS_COUNT}`;
  }

  /** A fresh noisy example of class `c` (also used for queries, so queries look like real members). */
  example(classIndex: number, random = this.random): Float32Array {
    const centre = this.centres[classIndex % CLASS_COUNT] as Float32Array;
    const sigma = EXAMPLE_NOISE_NORM / Math.sqrt(this.dim);
    const offset = Math.floor(random() * (NOISE_POOL_SIZE - this.dim));
    const out = new Float32Array(this.dim);
    for (let d = 0; d < this.dim; d++) out[d] = (centre[d] as number) + (this.pool[offset + d] as number) * sigma;
    return out;
  }

  /** The N stored examples in order, generated on the fly (never all kept, to save memory). */
  *examples(count: number): Generator<{ label: string; vector: Float32Array; index: number }> {
    for (let index = 0; index < count; index++) yield { label: this.labelOf(index), vector: this.example(index % CLASS_COUNT), index };
  }

  /**
   * `count` queries of varied classes with their true label, from their own generator so they are the
   * same whatever N. Only classes that exist at `storedCount` are drawn.
   */
  queries(count: number, storedCount: number, seed = 7): Array<{ label: string; vector: Float32Array }> {
    const pick = rng(seed);
    const classes = Math.min(CLASS_COUNT, storedCount);
    return Array.from({ length: count }, () => {
      const c = Math.floor(pick() * classes);
      return { label: this.labelOf(c), vector: this.example(c, pick) };
    });
  }
}
