import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/episodes.js';
import { adaptiveTemperature, FewShotHead, type FeatureTransform } from '../src/head.js';
import { headOptions } from '../src/head-defaults.js';
import { MODELS } from '../src/models.js';

const DIM = 24;

/** Textbook reference of the transform: plain arrays, recomputed from scratch for every query. */
const reference = {
  unit: (v: number[]) => {
    const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return v.map((x) => x / n);
  },
  prepare: (v: ArrayLike<number>, power: number) => reference.unit(reference.unit(Array.from(v)).map((x) => Math.sign(x) * Math.abs(x) ** power)),
  centre(examples: number[][], t: FeatureTransform): number[] {
    const mean = Array.from(t.referenceMean ?? new Float32Array(DIM), (r, d) => examples.reduce((s, e) => s + (e[d] as number), 0) + t.prior * r);
    return mean.map((x) => x / (examples.length + t.prior));
  },
  /** Similarities of a query to each class prototype: cos(mean of prepared examples - centre, prepared query - centre). */
  prototypeSims(examples: { label: string; v: Float32Array }[], query: Float32Array, t: FeatureTransform): Map<string, number> {
    const prepared = examples.map((e) => ({ label: e.label, x: reference.prepare(e.v, t.power) }));
    const c = reference.centre(prepared.map((p) => p.x), t);
    const q = reference.unit(reference.prepare(query, t.power).map((x, d) => x - (c[d] as number)));
    const sims = new Map<string, number>();
    for (const label of new Set(examples.map((e) => e.label))) {
      const members = prepared.filter((p) => p.label === label).map((p) => p.x);
      const proto = reference.unit(c.map((cd, d) => members.reduce((s, m) => s + (m[d] as number), 0) / members.length - cd));
      sims.set(label, proto.reduce((s, x, d) => s + x * (q[d] as number), 0));
    }
    return sims;
  },
};

/** Non-negative vectors, like post-ReLU embeddings, with a shared component so centring matters. */
function embedding(random: () => number): Float32Array {
  return Float32Array.from({ length: DIM }, (_, d) => Math.max(0, random() * 2 - 0.6) + (d % 3 === 0 ? 0.8 : 0));
}

describe('feature transform (power, centring on a blended mean)', () => {
  const random = seededRandom(42);
  const transform: FeatureTransform = { power: 0.5, referenceMean: Float32Array.from({ length: DIM }, () => random() * 0.3), prior: 3 };
  const examples = Array.from({ length: 11 }, (_, i) => ({ label: `c${i % 4}`, v: embedding(random) }));

  it('prototype similarities equal the reference computation, after adds and removes', () => {
    const head = new FewShotHead({ dim: DIM, temperature: 0.05, transform });
    examples.forEach((e, i) => head.add(`e${i}`, e.label, e.v));
    head.remove('e3');
    const kept = examples.filter((_, i) => i !== 3);
    for (let q = 0; q < 5; q++) {
      const query = embedding(random);
      const expected = reference.prototypeSims(kept, query, transform);
      const best = Math.max(...expected.values());
      const p = head.classify(query);
      expect(p.similarity).toBeCloseTo(best, 5);
      expect(expected.get(p.label)).toBeCloseTo(best, 9);
    }
  });

  it('k-NN similarities equal cos(x - centre, q - centre) computed directly', () => {
    const head = new FewShotHead({ dim: DIM, temperature: 0.05, transform, kind: 'knn', k: 1 });
    examples.forEach((e, i) => head.add(`e${i}`, e.label, e.v));
    const prepared = examples.map((e) => reference.prepare(e.v, transform.power));
    const c = reference.centre(prepared, transform);
    const query = embedding(random);
    const q = reference.unit(reference.prepare(query, transform.power).map((x, d) => x - (c[d] as number)));
    const sims = prepared.map((x) => reference.unit(x.map((v, d) => v - (c[d] as number))).reduce((s, v, d) => s + v * (q[d] as number), 0));
    const nearest = sims.indexOf(Math.max(...sims));
    const p = head.classify(query);
    expect(p.similarity).toBeCloseTo(sims[nearest] as number, 5);
    expect(p.label).toBe(examples[nearest]?.label);
  });

  it('with power 1 and no reference mean it is the plain cosine head', () => {
    const plain = new FewShotHead({ dim: DIM, temperature: 0.05 });
    const same = new FewShotHead({ dim: DIM, temperature: 0.05, transform: { power: 1, referenceMean: null, prior: 0 } });
    examples.forEach((e, i) => {
      plain.add(`e${i}`, e.label, e.v);
      same.add(`e${i}`, e.label, e.v);
    });
    const query = embedding(random);
    expect(same.classify(query).scores).toEqual(plain.classify(query).scores);
  });

  it('affinity is the mean cosine between two different class prototypes', () => {
    const head = new FewShotHead({ dim: DIM, temperature: 0.05, transform });
    expect(head.affinity).toBeNaN();
    examples.forEach((e, i) => head.add(`e${i}`, e.label, e.v));
    const prepared = examples.map((e) => ({ label: e.label, x: reference.prepare(e.v, transform.power) }));
    const c = reference.centre(prepared.map((p) => p.x), transform);
    const labels = [...new Set(examples.map((e) => e.label))];
    const protos = labels.map((l) => {
      const members = prepared.filter((p) => p.label === l).map((p) => p.x);
      return reference.unit(c.map((cd, d) => members.reduce((s, m) => s + (m[d] as number), 0) / members.length - cd));
    });
    let total = 0;
    let pairs = 0;
    for (let a = 0; a < protos.length; a++) {
      for (let b = a + 1; b < protos.length; b++) {
        total += protos[a]!.reduce((s, x, d) => s + x * (protos[b]![d] as number), 0);
        pairs++;
      }
    }
    expect(head.affinity).toBeCloseTo(total / pairs, 5);
  });

  it('rejects transforms that cannot work', () => {
    expect(() => new FewShotHead({ dim: DIM, temperature: 0.05, transform: { ...transform, power: 0 } })).toThrow(/power/);
    expect(() => new FewShotHead({ dim: DIM, temperature: 0.05, transform: { ...transform, prior: -1 } })).toThrow(/prior/);
    expect(() => new FewShotHead({ dim: DIM, temperature: 0.05, transform: { ...transform, referenceMean: new Float32Array(3) } })).toThrow(/dimensions/);
  });
});

describe('calibration defaults', () => {
  it('the temperature grows with ln(classes / 5) / shots and never below five classes', () => {
    expect(adaptiveTemperature(0.045, 0.008, 2, 1)).toBe(0.045);
    expect(adaptiveTemperature(0.045, 0.008, 5, 1)).toBe(0.045);
    expect(adaptiveTemperature(0.045, 0.008, 50, 1)).toBeCloseTo(0.045 + 0.008 * Math.log(10), 12);
    expect(adaptiveTemperature(0.045, 0.008, 50, 5)).toBeCloseTo(0.045 + (0.008 * Math.log(10)) / 5, 12);
  });

  it('the head uses it: probabilities are a softmax at the adaptive temperature for its classes and shots', () => {
    // One-hot prototypes, so the similarities are the query's own (normalised) coordinates.
    const query = Float32Array.from({ length: DIM }, (_, d) => (d < 20 ? 1 + d / 10 : 0));
    const norm = Math.sqrt(query.reduce((s, x) => s + x * x, 0));
    for (const shots of [1, 2]) {
      const head = new FewShotHead({ dim: DIM, temperature: 0.045, temperatureGrowth: 0.008 });
      for (let c = 0; c < 20; c++) {
        for (let s = 0; s < shots; s++) head.add(`e${c}.${s}`, `c${c}`, Float32Array.from({ length: DIM }, (_, d) => Number(d === c)));
      }
      const t = adaptiveTemperature(0.045, 0.008, 20, shots);
      const exps = Array.from({ length: 20 }, (_, c) => Math.exp((query[c] as number) / norm / t));
      const total = exps.reduce((a, b) => a + b, 0);
      const p = head.classify(query);
      for (const score of p.scores) expect(score.score).toBeCloseTo((exps[Number(score.label.slice(1))] as number) / total, 6); // float32 vectors
    }
  });

  it('every model has a temperature, a growth and a threshold from scripts/lodo.ts', () => {
    for (const spec of Object.values(MODELS)) {
      const o = headOptions(spec);
      expect(o.temperature).toBe(spec.temperature);
      expect(o.temperatureGrowth).toBe(spec.temperatureGrowth);
      expect(o.unknownThreshold).toBe(spec.unknownThreshold);
      expect(o.transform?.referenceMean).toHaveLength(spec.dim);
      expect(o.transform?.prior).toBe(spec.centringPrior);
      // A temperature set by hand is used as it is; the plain head has no transform and no unknown.
      expect(headOptions(spec, { temperature: 0.1 }).temperatureGrowth).toBe(0);
      expect(headOptions(spec, { transform: 'plain' })).toMatchObject({ temperature: spec.plainTemperature, unknownThreshold: null });
      expect(headOptions(spec, { transform: 'plain' }).transform).toBeUndefined();
    }
  });
});
