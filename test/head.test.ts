import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/episodes.js';
import { FewShotHead, softmax } from '../src/head.js';
import { codeOf as code } from './errors.js';

const DIM = 32;
const T = 0.1;

function randomVector(random: () => number, dim = DIM): Float32Array {
  return Float32Array.from({ length: dim }, () => random() * 2 - 1);
}

/** Naive reference: plain arrays, no incremental state, textbook formulas. */
const reference = {
  unit(v: ArrayLike<number>): number[] {
    const norm = Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
    return Array.from(v, (x) => x / norm);
  },
  cos(a: ArrayLike<number>, b: ArrayLike<number>): number {
    const ua = reference.unit(a);
    const ub = reference.unit(b);
    return ua.reduce((s, x, i) => s + x * (ub[i] as number), 0);
  },
  softmax(values: number[], t: number): number[] {
    const exps = values.map((v) => Math.exp(v / t));
    const total = exps.reduce((a, b) => a + b, 0);
    return exps.map((e) => e / total);
  },
  prototype(examples: { label: string; v: Float32Array }[], query: Float32Array, t: number): Map<string, number> {
    const labels = [...new Set(examples.map((e) => e.label))];
    const sims = labels.map((label) => {
      const members = examples.filter((e) => e.label === label).map((e) => reference.unit(e.v));
      const mean = members[0]!.map((_, d) => members.reduce((s, m) => s + (m[d] as number), 0) / members.length);
      return reference.cos(query, mean);
    });
    const probs = reference.softmax(sims, t);
    return new Map(labels.map((l, i) => [l, probs[i] as number]));
  },
  knn(examples: { label: string; v: Float32Array }[], query: Float32Array, k: number, t: number): Map<string, number> {
    const ranked = examples.map((e) => ({ label: e.label, sim: reference.cos(query, e.v) })).sort((a, b) => b.sim - a.sim);
    const votes = new Map<string, number>(examples.map((e) => [e.label, 0]));
    for (const n of ranked.slice(0, k)) votes.set(n.label, (votes.get(n.label) as number) + Math.exp(n.sim / t));
    const total = [...votes.values()].reduce((a, b) => a + b, 0);
    return new Map([...votes].map(([l, v]) => [l, v / total]));
  },
};

function makeExamples(seed: number, classes: number, shots: number) {
  const random = seededRandom(seed);
  const centres = Array.from({ length: classes }, () => randomVector(random));
  const examples: { id: string; label: string; v: Float32Array }[] = [];
  centres.forEach((c, ci) => {
    for (let s = 0; s < shots; s++) {
      examples.push({ id: `e${ci}_${s}`, label: `class ${ci}`, v: c.map((x) => x + (random() - 0.5) * 0.8) });
    }
  });
  return { examples, random };
}

function expectScoresMatch(actual: { label: string; score: number }[], expected: Map<string, number>): void {
  expect(actual).toHaveLength(expected.size);
  for (const s of actual) expect(s.score).toBeCloseTo(expected.get(s.label) as number, 6);
  expect(actual.reduce((a, s) => a + s.score, 0)).toBeCloseTo(1, 9);
  for (let i = 1; i < actual.length; i++) expect(actual[i - 1]!.score).toBeGreaterThanOrEqual(actual[i]!.score);
}

describe('FewShotHead maths against a naive reference', () => {
  it('prototype scores are the softmax of cosine similarities to the normalised class means', () => {
    const { examples, random } = makeExamples(1, 6, 3);
    const head = new FewShotHead({ dim: DIM, temperature: T });
    for (const e of examples) head.add(e.id, e.label, e.v);
    for (let q = 0; q < 20; q++) {
      const query = randomVector(random);
      const expected = reference.prototype(examples, query, T);
      const result = head.classify(query);
      expectScoresMatch(result.scores, expected);
      const bestLabel = [...expected].sort((a, b) => b[1] - a[1])[0]![0];
      expect(result.label).toBe(bestLabel);
      expect(result.confidence).toBeCloseTo(expected.get(bestLabel) as number, 6);
    }
  });

  it('k-NN scores are similarity-weighted votes of the k nearest examples', () => {
    const { examples, random } = makeExamples(2, 5, 4);
    for (const k of [1, 3, 7, 100]) {
      const head = new FewShotHead({ dim: DIM, temperature: T, kind: 'knn', k });
      for (const e of examples) head.add(e.id, e.label, e.v);
      for (let q = 0; q < 10; q++) {
        const query = randomVector(random);
        expectScoresMatch(head.classify(query).scores, reference.knn(examples, query, k, T));
      }
    }
  });

  it('incremental adds and removes give the same answers as a head built from scratch', () => {
    const { examples, random } = makeExamples(3, 5, 4);
    const incremental = new FewShotHead({ dim: DIM, temperature: T });
    for (const e of examples) incremental.add(e.id, e.label, e.v);
    const removed = new Set(['e0_1', 'e2_0', 'e2_1', 'e2_2', 'e2_3', 'e4_3']); // class 2 disappears entirely
    for (const id of removed) expect(incremental.remove(id)).toBe(true);
    expect(incremental.remove('e0_1')).toBe(false);
    const kept = examples.filter((e) => !removed.has(e.id));
    const fresh = new FewShotHead({ dim: DIM, temperature: T });
    for (const e of kept) fresh.add(e.id, e.label, e.v);
    expect(incremental.size).toBe(kept.length);
    expect(incremental.listClasses().map((c) => c.label).sort()).toEqual(fresh.listClasses().map((c) => c.label).sort());
    expect(incremental.listClasses().find((c) => c.label === 'class 2')).toBeUndefined();
    for (let q = 0; q < 10; q++) {
      const query = randomVector(random);
      const a = incremental.classify(query);
      const b = fresh.classify(query);
      expect(a.label).toBe(b.label);
      expectScoresMatch(a.scores, new Map(b.scores.map((s) => [s.label, s.score])));
    }
  });

  it('with one example per class, prototype and 1-NN agree on every label', () => {
    const { examples, random } = makeExamples(4, 8, 1);
    const prototype = new FewShotHead({ dim: DIM, temperature: T });
    const knn = new FewShotHead({ dim: DIM, temperature: T, kind: 'knn', k: 1 });
    for (const e of examples) {
      prototype.add(e.id, e.label, e.v);
      knn.add(e.id, e.label, e.v);
    }
    for (let q = 0; q < 50; q++) {
      const query = randomVector(random);
      const p = prototype.classify(query);
      const n = knn.classify(query);
      expect(n.label).toBe(p.label);
      expect(n.similarity).toBeCloseTo(p.similarity, 6);
    }
  });

  it('is invariant to the scale of embeddings (cosine)', () => {
    const { examples, random } = makeExamples(5, 4, 2);
    const head = new FewShotHead({ dim: DIM, temperature: T });
    for (const e of examples) head.add(e.id, e.label, e.v.map((x) => x * 37));
    const query = randomVector(random);
    const a = head.classify(query);
    const b = head.classify(query.map((x) => x * 0.01));
    expect(b.label).toBe(a.label);
    expectScoresMatch(b.scores, new Map(a.scores.map((s) => [s.label, s.score])));
  });

  it('answers unknown exactly when the best similarity is below the threshold', () => {
    const head = new FewShotHead({ dim: 3, temperature: T, unknownThreshold: 0.5 });
    head.add('a', 'x-axis', [1, 0, 0]);
    head.add('b', 'y-axis', [0, 1, 0]);
    const near = head.classify([1, 0.1, 0]);
    expect(near).toMatchObject({ label: 'x-axis', unknown: false });
    const far = head.classify([0.1, 0.1, 1]); // cos to x-axis = 0.099
    expect(far.unknown).toBe(true);
    expect(far.similarity).toBeCloseTo(0.1 / Math.sqrt(1.02), 6);
    const off = new FewShotHead({ dim: 3, temperature: T });
    off.add('a', 'x-axis', [1, 0, 0]);
    expect(off.classify([0, 0, 1]).unknown).toBe(false);
  });

  it('keeps labels like __proto__ and constructor as ordinary classes', () => {
    const head = new FewShotHead({ dim: 2, temperature: T });
    head.add('1', '__proto__', [1, 0]);
    head.add('2', 'constructor', [0, 1]);
    expect(head.classify([1, 0.1]).label).toBe('__proto__');
    expect(head.listClasses()).toEqual([
      { label: '__proto__', count: 1 },
      { label: 'constructor', count: 1 },
    ]);
  });

  it('refuses mismatched dimensions, NaN and zero vectors, duplicate ids and classifying before learning', () => {
    const head = new FewShotHead({ dim: 4, temperature: T });
    expect(code(() => head.classify([1, 0, 0, 0]))).toBe('NO_CLASSES');
    expect(code(() => head.add('a', 'x', [1, 2, 3]))).toBe('MODEL_MISMATCH');
    expect(code(() => head.add('a', 'x', [1, Number.NaN, 0, 0]))).toBe('INVALID_EMBEDDING');
    expect(code(() => head.add('a', 'x', [0, 0, 0, 0]))).toBe('INVALID_EMBEDDING');
    expect(head.size).toBe(0);
    head.add('a', 'x', [1, 0, 0, 0]);
    expect(code(() => head.add('a', 'y', [0, 1, 0, 0]))).toBe('INVALID_ARGUMENT');
    expect(code(() => head.classify([1, 0, 0, 0, 0]))).toBe('MODEL_MISMATCH');
    expect(code(() => new FewShotHead({ dim: 4, temperature: 0 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => new FewShotHead({ dim: 4, temperature: T, k: 0 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => new FewShotHead({ dim: 4, temperature: T, unknownThreshold: 2 }))).toBe('INVALID_ARGUMENT');
    expect(head.size).toBe(1);
  });

  it('softmax is stable for large inputs and sums to one', () => {
    const p = softmax([1000, 1001, 999], 0.01);
    expect(p.every(Number.isFinite)).toBe(true);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(p[1]).toBeGreaterThan(0.99);
  });
});
