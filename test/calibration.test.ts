import { describe, expect, it } from 'vitest';
import { fitTemperature, fitThreshold, type Calibration, type HeldOutScore } from '../src/calibration.js';
import { seededRandom } from '../src/episodes.js';
import { FewShotHead, softmax, type PreparedVector } from '../src/head.js';
import { headOptions } from '../src/head-defaults.js';
import { MODELS } from '../src/models.js';

/** Held-out answers drawn from a softmax at a known temperature: the fit must find it back. */
function answersAt(temperature: number, count: number, random: () => number): HeldOutScore[] {
  return Array.from({ length: count }, () => {
    const sims = Float64Array.from({ length: 5 }, () => random() * 0.6);
    const p = softmax(sims, temperature);
    let u = random();
    let truth = 0;
    while (truth < 4 && (u -= p[truth] as number) > 0) truth++;
    return { sims, truth };
  });
}

describe('fitTemperature (leave-one-out temperature scaling with a prior)', () => {
  it('keeps the prior without held-out answers', () => {
    expect(fitTemperature([], 0.07, 2)).toBe(0.07);
  });

  it('finds the temperature that generated the answers when they are many, from a prior far away', () => {
    const random = seededRandom(5);
    for (const truth of [0.03, 0.1, 0.3]) {
      const t = fitTemperature(answersAt(truth, 3000, random), 0.1, 1);
      expect(Math.abs(Math.log(t / truth))).toBeLessThan(0.15);
    }
  });

  it('a heavy prior holds the temperature near it; a light one lets a few answers move it', () => {
    const answers = answersAt(0.3, 20, seededRandom(9));
    const light = fitTemperature(answers, 0.05, 0.5);
    const heavy = fitTemperature(answers, 0.05, 500);
    expect(light).toBeGreaterThan(0.1);
    expect(Math.abs(Math.log(heavy / 0.05))).toBeLessThan(0.1);
  });
});

describe('fitThreshold', () => {
  it('is the prior without held-out answers, else blends mean - spread x sd of own-class similarities with it', () => {
    expect(fitThreshold([], 0.1, 2, 1)).toBe(0.1);
    const own = [0.5, 0.3, 0.4, 0.2];
    const heldOut = own.map((s) => ({ sims: Float64Array.of(s, 0), truth: 0 }));
    const mean = 0.35;
    const sd = Math.sqrt(own.reduce((a, s) => a + (s - mean) ** 2, 0) / 4);
    expect(fitThreshold(heldOut, 0.1, 2, 1.5)).toBeCloseTo((4 * (mean - 1.5 * sd) + 2 * 0.1) / 6, 12);
  });
});

describe('the head adapts its calibration to the stored examples', () => {
  const DIM = 16;
  const random = seededRandom(3);
  /** Classes around random centres with a given spread: the wider, the harder. */
  function classes(count: number, shots: number, spread: number) {
    const centres = Array.from({ length: count }, () => Float32Array.from({ length: DIM }, () => random() - 0.5));
    return centres.flatMap((c, k) => Array.from({ length: shots }, (_, s) => ({ id: `${k}.${s}`, label: `c${k}`, v: c.map((x) => x + spread * (random() - 0.5)) })));
  }
  const options = { dim: DIM, temperature: 0.05, unknownThreshold: 0.2, calibrationWeight: 2, unknownSpread: 1 };

  it('held-out scores equal a head that never saw the example (no centring: exact)', () => {
    const examples = classes(4, 3, 1);
    const head = new FewShotHead(options);
    examples.forEach((e) => head.add(e.id, e.label, e.v));
    const scores = head.heldOutScores();
    expect(scores).toHaveLength(12);
    const order = head.listClasses().map((c) => c.label);
    for (const [i, e] of examples.entries()) {
      const without = new FewShotHead(options);
      examples.filter((_, j) => j !== i).forEach((x) => without.add(x.id, x.label, x.v));
      const expected = without.prototypeSimilarities(e.v);
      const got = scores.find((s) => Math.abs((s.sims[s.truth] as number) - (expected[without.listClasses().findIndex((c) => c.label === e.label)] as number)) < 1e-5);
      expect(got, `example ${e.id}`).toBeDefined();
      expect(order[got!.truth]).toBe(e.label);
    }
  });

  it('one example per class: the constants stand; two or more: the temperature follows how well the examples are told apart', () => {
    const single = new FewShotHead(options);
    classes(5, 1, 1).forEach((e) => single.add(e.id, e.label, e.v));
    expect(single.calibration).toEqual({ temperature: 0.05, unknownThreshold: 0.2, heldOut: 0 });
    const easy = new FewShotHead(options);
    classes(5, 5, 0.3).forEach((e) => easy.add(e.id, e.label, e.v));
    const hard = new FewShotHead(options);
    classes(5, 5, 3).forEach((e) => hard.add(e.id, e.label, e.v));
    expect(hard.calibration.temperature).toBeGreaterThan(easy.calibration.temperature);
    expect(hard.calibration.heldOut).toBe(25); // every example of 5 classes x 5, each left out once
    // The probabilities are the softmax at the fitted temperature.
    const query = Float32Array.from({ length: DIM }, () => random() - 0.5);
    const sims = hard.prototypeSimilarities(query);
    const expected = softmax(sims, hard.calibration.temperature);
    const p = hard.classify(query);
    const order = hard.listClasses().map((c) => c.label);
    for (const s of p.scores) expect(s.score).toBeCloseTo(expected[order.indexOf(s.label)] as number, 9);
    // Tight classes raise the "unknown" threshold above the prior; loose ones lower it.
    expect(easy.calibration.unknownThreshold).toBeGreaterThan(0.2);
    expect(hard.calibration.unknownThreshold).toBeLessThan(easy.calibration.unknownThreshold!);
    expect(p.unknown).toBe(p.similarity < hard.calibration.unknownThreshold!);
  });

  it('refits after every change, and not at all when turned off', () => {
    const head = new FewShotHead(options);
    const examples = classes(3, 4, 2);
    examples.forEach((e) => head.add(e.id, e.label, e.v));
    const before = head.calibration.temperature;
    for (const e of examples.filter((e) => e.id.endsWith('.1') || e.id.endsWith('.2') || e.id.endsWith('.3'))) head.remove(e.id);
    expect(head.calibration.temperature).toBe(0.05); // one example per class again
    expect(before).not.toBe(0.05);
    const fixed = new FewShotHead({ ...options, calibrationWeight: null });
    examples.forEach((e) => fixed.add(e.id, e.label, e.v));
    expect(fixed.calibration).toEqual({ temperature: 0.05, unknownThreshold: 0.2, heldOut: 0 });
  });

  it('a calibration memo fits once per set of examples, for every head built from them, and never across sets', () => {
    const memo = new Map<string, Calibration>();
    let fits = 0;
    const counting = { get: (key: string) => memo.get(key), set: (key: string, c: Calibration) => (fits++, memo.set(key, c)) };
    const examples = classes(4, 3, 2);
    const build = (list: typeof examples, extra: object = {}) => {
      const head = new FewShotHead({ ...options, memo: { calibrations: counting }, ...extra });
      list.forEach((e) => head.add(e.id, e.label, e.v));
      return head;
    };
    const first = build(examples).calibration;
    expect(first).toEqual(build(examples, { memo: undefined }).calibration);
    // Per request, as the worker does: the same examples, a new head, no new fit, the same answer.
    for (let request = 0; request < 3; request++) expect(build(examples).calibration).toEqual(first);
    expect(fits).toBe(1);
    // One value of one example changed, an example less, or other constants: a new fit of their own.
    const moved = examples.map((e, i) => (i === 5 ? { ...e, v: e.v.map((x, d) => (d === 0 ? x + 1e-3 : x)) } : e));
    expect(build(moved).calibration).toEqual(build(moved, { memo: undefined }).calibration);
    build(examples.slice(1)).calibration;
    build(examples, { unknownSpread: 2 }).calibration;
    expect(fits).toBe(4);
    // An example removed from a head that has been fitted (its last row moves into the hole): the key follows.
    const edited = build(examples);
    edited.calibration;
    edited.remove(examples[2]!.id);
    const rest = build(examples.filter((_, i) => i !== 2), { memo: undefined }).calibration;
    // Same examples in another row order: equal up to the order of floating-point sums.
    expect(edited.calibration.temperature).toBeCloseTo(rest.temperature, 9);
    expect(edited.calibration.unknownThreshold).toBeCloseTo(rest.unknownThreshold!, 9);
    expect(edited.calibration).not.toEqual(first);
  });

  it('a prepared-vector memo gives the answers a head without it gives, and never hands one power\'s vectors to another', () => {
    const prepared = new WeakMap<object, PreparedVector>();
    const examples = classes(4, 3, 1);
    const query = Float32Array.from({ length: DIM }, () => random() - 0.5);
    const answer = (power: number, memo?: { prepared: typeof prepared }) => {
      const head = new FewShotHead({ ...options, transform: { power, referenceMean: null, prior: 0 }, ...(memo ? { memo } : {}) });
      examples.forEach((e) => head.add(e.id, e.label, e.v));
      return head.classify(query);
    };
    const expected = answer(0.5);
    expect(answer(0.5, { prepared })).toEqual(expected);
    expect(prepared.has(examples[0]!.v)).toBe(true);
    expect(prepared.has(query)).toBe(false); // queries never come back: not kept
    expect(answer(0.5, { prepared })).toEqual(expected); // from the memo this time
    expect(answer(1, { prepared })).toEqual(answer(1));
    expect(answer(1)).not.toEqual(expected);
  });

  it('every model adapts by default; a temperature or threshold set by hand stays as set', () => {
    for (const spec of Object.values(MODELS)) {
      expect(headOptions(spec)).toMatchObject({ calibrationWeight: spec.calibrationWeight, unknownSpread: spec.unknownSpread });
      expect(headOptions(spec, { temperature: 0.1 }).calibrationWeight).toBeNull();
      expect(headOptions(spec, { unknownThreshold: 0.3 }).unknownSpread).toBeNull();
      expect(headOptions(spec, { transform: 'plain' })).toMatchObject({ calibrationWeight: null, unknownSpread: null });
    }
    expect(() => new FewShotHead({ ...options, calibrationWeight: 0 })).toThrow(/calibrationWeight/);
  });
});
