/**
 * Research harness for the few-shot head: every variant tried for issue 5, measured on the same seeded
 * episodes of the cached development embeddings. Prints a markdown table (and JSON with --json) of
 * accuracy per dataset and setting, ECE at the best single temperature, and open-set AUROC.
 *
 *   npx tsx scripts/embed-datasets.ts && npx tsx scripts/variants.ts --model mobilenet_v2_100
 */
import { parseArgs } from 'node:util';
import { meanCi95, sampleEpisode, seededRandom } from '../src/episodes.js';
import { auroc, expectedCalibrationError } from '../src/metrics.js';
import { isModelName } from '../src/models.js';
import { loadDevSets, type DevSet, type EmbeddedClass } from './research-data.js';

const { values } = parseArgs({
  options: {
    ref: { type: 'string', default: 'caltech101' },
    model: { type: 'string', default: 'mobilenet_v2_100' },
    episodes: { type: 'string', default: '300' },
    only: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const model = values.model as string;
if (!isModelName(model)) throw new Error(`unknown model ${model}`);
const EPISODES = Number(values.episodes);
const sets = await loadDevSets(model);

interface Variant {
  name: string;
  /** Exponent of the power transform on the raw (non-negative) features; 1 = none. */
  power: number;
  /** What is subtracted before the final L2 normalisation. */
  center: 'none' | 'ref' | 'support' | 'blend';
  /** Pseudo-count of the reference mean when blended with the support mean. */
  prior?: number;
  /** Flip averaging: 'both' for support and queries, 'support' for the stored examples only. */
  flip: boolean | 'support';
  /** Remove the projections on the reference set's top principal directions (after centring). */
  dropTop?: number;
  /** Divide each centred dimension by the reference spread, shrunk: (var_d + shrink * mean var)^(-1/2). */
  whiten?: number;
  head: 'prototype' | 'knn1' | 'knn3';
}

const dim = sets.caltech101[0]!.items[0]!.length;

function l2n(v: Float64Array): Float64Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n) || 1;
  return v.map((x) => x / n);
}

/** Power transform then L2 normalisation: the feature before centring (memoised per variant setting). */
const baseCache = new Map<string, Map<EmbeddedClass, Float64Array[]>>();
function base(c: EmbeddedClass, i: number, v: Variant, role: 'support' | 'query' = 'support'): Float64Array {
  if (v.flip === 'support') v = { ...v, flip: role === 'support' };
  const key = `${v.power}|${v.flip}`;
  let byClass = baseCache.get(key);
  if (!byClass) baseCache.set(key, (byClass = new Map()));
  let vectors = byClass.get(c);
  if (!vectors) byClass.set(c, (vectors = c.items.map((_, j) => computeBase(c, j, v))));
  return vectors[i]!;
}
function computeBase(c: EmbeddedClass, i: number, v: Variant): Float64Array {
  const raw = c.items[i]!;
  const f = c.flipped[i]!;
  const out = new Float64Array(dim);
  for (let d = 0; d < dim; d++) {
    const x = v.flip === true ? (raw[d]! + f[d]!) / 2 : raw[d]!;
    out[d] = v.power === 1 ? x : Math.sign(x) * Math.abs(x) ** v.power;
  }
  return l2n(out);
}

/** Reference means per power, from a named set (all of its images, plain and flipped alike). */
const refCache = new Map<string, Float64Array>();
const REF_SET = values.ref as DevSet;
function referenceMean(v: Variant): Float64Array {
  const key = `${REF_SET}|${v.power}|${v.flip}`;
  let mean = refCache.get(key);
  if (!mean) {
    mean = new Float64Array(dim);
    let n = 0;
    for (const c of sets[REF_SET]) {
      for (let i = 0; i < c.items.length; i++) {
        const b = base(c, i, v);
        for (let d = 0; d < dim; d++) mean[d]! += b[d]!;
        n++;
      }
    }
    mean = mean.map((x) => x / n);
    refCache.set(key, mean);
  }
  return mean;
}

/** Per-dimension inverse spread of the reference set (diagonal whitening with shrinkage). */
const scaleCache = new Map<string, Float64Array>();
function diagonalScale(v: Variant): Float64Array {
  const key = `${REF_SET}|${v.power}|${v.whiten}`;
  const hit = scaleCache.get(key);
  if (hit) return hit;
  const mean = referenceMean({ ...v, flip: false });
  const variance = new Float64Array(dim);
  let n = 0;
  for (const c of sets[REF_SET]) {
    for (let i = 0; i < c.items.length; i++) {
      const b = base(c, i, { ...v, flip: false });
      for (let d = 0; d < dim; d++) variance[d]! += (b[d]! - mean[d]!) ** 2;
      n++;
    }
  }
  const avg = variance.reduce((a, x) => a + x, 0) / n / dim;
  const scale = variance.map((x) => 1 / Math.sqrt(x / n + (v.whiten ?? 0) * avg));
  scaleCache.set(key, scale);
  return scale;
}

/**
 * The reference set's top principal directions after centring (orthogonal iteration). Dropping them is
 * "all-but-the-top" post-processing (Mu & Viswanath, ICLR 2018), here applied to image embeddings.
 */
const topCache = new Map<string, Float64Array[]>();
function topDirections(v: Variant): Float64Array[] {
  const m = v.dropTop ?? 0;
  const key = `${REF_SET}|${v.power}|${m}`;
  const hit = topCache.get(key);
  if (hit) return hit;
  const mean = referenceMean({ ...v, flip: false });
  const rows = sets[REF_SET].flatMap((c) => c.items.map((_, i) => base(c, i, { ...v, flip: false }).map((x, d) => x - mean[d]!)));
  const random = seededRandom(7);
  let basis: Float64Array[] = Array.from({ length: m }, () => Float64Array.from({ length: dim }, () => random() - 0.5));
  for (let iter = 0; iter < 30; iter++) {
    // basis <- orthonormalise(X^T X basis)
    const next: Float64Array[] = basis.map((b) => {
      const out = new Float64Array(dim);
      for (const r of rows) {
        const p = dot(r, b);
        for (let d = 0; d < dim; d++) out[d]! += p * r[d]!;
      }
      return out;
    });
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < i; j++) {
        const p = dot(next[i]!, next[j]!);
        for (let d = 0; d < dim; d++) next[i]![d]! -= p * next[j]![d]!;
      }
      next[i] = l2n(next[i]!);
    }
    basis = next;
  }
  topCache.set(key, basis);
  return basis;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let d = 0; d < a.length; d++) s += a[d]! * b[d]!;
  return s;
}

interface QueryRecord {
  /** Similarity to each class of the episode. */
  sims: Float64Array;
  truth: number;
  known: boolean;
}

/** One episode: support of `ways` classes; known queries, and as many unknown queries from other classes. */
function runEpisode(classes: EmbeddedClass[], ways: number, shots: number, queries: number, random: () => number, v: Variant): QueryRecord[] {
  const indexed = classes.map((c, ci) => ({ name: String(ci), items: c.items.map((_, i) => i) }));
  const ep = sampleEpisode(indexed, ways * 2, shots, queries, random);
  const chosen = [...new Set(ep.support.map((s) => Number(s.label)))];
  const knownClasses = chosen.slice(0, ways);
  const feature = (label: string, i: number, role: 'support' | 'query' = 'support') => base(classes[Number(label)]!, i, v, role);
  const support = ep.support.filter((s) => knownClasses.includes(Number(s.label))).map((s) => ({ c: knownClasses.indexOf(Number(s.label)), x: feature(s.label, s.item) }));
  let mu: Float64Array | null = null;
  if (v.center !== 'none') {
    const ref = referenceMean(v);
    if (v.center === 'ref') mu = ref;
    else {
      const sum = new Float64Array(dim);
      for (const s of support) for (let d = 0; d < dim; d++) sum[d]! += s.x[d]!;
      const prior = v.center === 'blend' ? (v.prior ?? 10) : 0;
      mu = sum.map((x, d) => (x + prior * ref[d]!) / (support.length + prior));
    }
  }
  const top = v.dropTop ? topDirections(v) : [];
  const centred = (x: Float64Array) => {
    if (!mu) return x;
    const z = x.map((y, d) => y - mu![d]!);
    if (v.whiten !== undefined) {
      const scale = diagonalScale(v);
      for (let d = 0; d < dim; d++) z[d]! *= scale[d]!;
    }
    for (const u of top) {
      const p = dot(z, u);
      for (let d = 0; d < dim; d++) z[d]! -= p * u[d]!;
    }
    return l2n(z);
  };
  const sup = support.map((s) => ({ c: s.c, z: centred(s.x) }));
  const protos = knownClasses.map((_, c) => {
    const sum = new Float64Array(dim);
    for (const s of sup) if (s.c === c) for (let d = 0; d < dim; d++) sum[d]! += s.z[d]!;
    return l2n(sum);
  });
  const records: QueryRecord[] = [];
  for (const q of ep.queries) {
    const ci = Number(q.label);
    const known = knownClasses.includes(ci);
    const z = centred(feature(q.label, q.item, 'query'));
    let sims: Float64Array;
    if (v.head === 'prototype') sims = Float64Array.from(protos, (p) => dot(p, z));
    else {
      // k-NN by majority vote, as @tensorflow-models/knn-classifier: class score = votes among the k nearest.
      const k = v.head === 'knn1' ? 1 : 3;
      const ranked = sup.map((s) => ({ c: s.c, s: dot(s.z, z) })).sort((a, b) => b.s - a.s).slice(0, k);
      sims = new Float64Array(ways);
      // Ties go to the class added first, as in the peer (its calculateTopClass keeps the first maximum).
      for (const r of ranked) sims[r.c]! += 1;
    }
    records.push({ sims, truth: known ? knownClasses.indexOf(ci) : -1, known });
  }
  return records;
}

const argmax = (a: Float64Array) => a.reduce((best, x, i) => (x > a[best]! ? i : best), 0);

function softmaxMax(sims: Float64Array, t: number): number {
  const m = Math.max(...sims);
  let total = 0;
  for (const s of sims) total += Math.exp((s - m) / t);
  return 1 / total;
}

const SETTINGS = [
  { ways: 5, shots: 1 },
  { ways: 5, shots: 5 },
  { ways: 20, shots: 1 },
  { ways: 20, shots: 5 },
];
const TEMPERATURES = [0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.05, 0.06, 0.08, 0.1];

interface Row {
  variant: string;
  set: string;
  ways: number;
  shots: number;
  accuracy: number;
  ci95: number;
  records: QueryRecord[];
}

function evaluate(v: Variant): Row[] {
  const rows: Row[] = [];
  for (const set of Object.keys(sets) as DevSet[]) {
    for (const { ways, shots } of SETTINGS) {
      // Half the queries are unknown, so 2 x ways classes must exist (Caltech-101 has 40).
      if (sets[set].length < ways * 2) continue;
      const random = seededRandom(1000 * ways + shots);
      const accs: number[] = [];
      const records: QueryRecord[] = [];
      const episodes = ways === 20 ? Math.ceil(EPISODES / 3) : EPISODES;
      for (let e = 0; e < episodes; e++) {
        const r = runEpisode(sets[set], ways, shots, 15, random, v);
        const known = r.filter((x) => x.known);
        accs.push(known.filter((x) => argmax(x.sims) === x.truth).length / known.length);
        records.push(...r);
      }
      const { mean, ci95 } = meanCi95(accs);
      rows.push({ variant: v.name, set, ways, shots, accuracy: mean, ci95, records });
    }
  }
  return rows;
}

const VARIANTS: Variant[] = [
  { name: 'plain prototype', power: 1, center: 'none', flip: false, head: 'prototype' },
  { name: 'peer-like kNN k=1', power: 1, center: 'none', flip: false, head: 'knn1' },
  { name: 'peer-like kNN k=3', power: 1, center: 'none', flip: false, head: 'knn3' },
  { name: 'centre: reference mean', power: 1, center: 'ref', flip: false, head: 'prototype' },
  { name: 'centre: support mean', power: 1, center: 'support', flip: false, head: 'prototype' },
  { name: 'centre: blend (prior 5)', power: 1, center: 'blend', prior: 5, flip: false, head: 'prototype' },
  { name: 'centre: blend (prior 20)', power: 1, center: 'blend', prior: 20, flip: false, head: 'prototype' },
  { name: 'power 0.5', power: 0.5, center: 'none', flip: false, head: 'prototype' },
  { name: 'power 0.5 + ref', power: 0.5, center: 'ref', flip: false, head: 'prototype' },
  { name: 'power 0.5 + blend 5', power: 0.5, center: 'blend', prior: 5, flip: false, head: 'prototype' },
  { name: 'power 0.5 + blend 20', power: 0.5, center: 'blend', prior: 20, flip: false, head: 'prototype' },
  { name: 'power 0.7 + blend 5', power: 0.7, center: 'blend', prior: 5, flip: false, head: 'prototype' },
  { name: 'flip', power: 1, center: 'none', flip: true, head: 'prototype' },
  { name: 'flip + power 0.5 + blend 5', power: 0.5, center: 'blend', prior: 5, flip: true, head: 'prototype' },
  { name: 'flip + power 0.5 + blend 20 (default)', power: 0.5, center: 'blend', prior: 20, flip: true, head: 'prototype' },
  { name: 'flip support only', power: 1, center: 'none', flip: 'support', head: 'prototype' },
  { name: 'flip support + power 0.5 + blend 20', power: 0.5, center: 'blend', prior: 20, flip: 'support', head: 'prototype' },
  { name: 'power 0.5 + ref + whiten 1', power: 0.5, center: 'ref', whiten: 1, flip: false, head: 'prototype' },
  { name: 'power 0.5 + ref + whiten 0.3', power: 0.5, center: 'ref', whiten: 0.3, flip: false, head: 'prototype' },
  { name: 'power 0.5 + blend 20 + whiten 1', power: 0.5, center: 'blend', prior: 20, whiten: 1, flip: false, head: 'prototype' },
  { name: 'power 0.5 + ref - top 2', power: 0.5, center: 'ref', dropTop: 2, flip: false, head: 'prototype' },
  { name: 'power 0.5 + ref - top 8', power: 0.5, center: 'ref', dropTop: 8, flip: false, head: 'prototype' },
  { name: 'power 0.5 + ref - top 32', power: 0.5, center: 'ref', dropTop: 32, flip: false, head: 'prototype' },
  { name: 'power 0.5 + blend 5, kNN k=1', power: 0.5, center: 'blend', prior: 5, flip: false, head: 'knn1' },
];

const only = values.only ? new RegExp(values.only) : null;
const summary: Record<string, unknown>[] = [];
const fmt = (x: number) => (100 * x).toFixed(1);
console.log(`\n### ${model}: ${EPISODES} episodes per 5-way setting (a third for 20-way), 15 queries per class\n`);
console.log('| variant | ' + Object.keys(sets).flatMap((s) => SETTINGS.filter((x) => sets[s as DevSet].length >= x.ways * 2).map((x) => `${s} ${x.ways}w${x.shots}s`)).join(' | ') + ' | mean 1-shot | best T | ECE | AUROC |');
for (const v of VARIANTS.filter((x) => !only || only.test(x.name))) {
  const rows = evaluate(v);
  const known = rows.flatMap((r) => r.records.filter((x) => x.known));
  let best = { t: 0, ece: Infinity };
  if (v.head === 'prototype') {
    for (const t of TEMPERATURES) {
      // ECE averaged over settings, so no one setting dominates.
      const e = rows.reduce((a, r) => a + expectedCalibrationError(r.records.filter((x) => x.known).map((x) => ({ confidence: softmaxMax(x.sims, t), correct: argmax(x.sims) === x.truth }))), 0) / rows.length;
      if (e < best.ece) best = { t, ece: e };
    }
  }
  const au = v.head === 'prototype' ? rows.reduce((a, r) => a + auroc(r.records.filter((x) => x.known).map((x) => Math.max(...x.sims)), r.records.filter((x) => !x.known).map((x) => Math.max(...x.sims))), 0) / rows.length : NaN;
  const oneShot = rows.filter((r) => r.shots === 1);
  const mean1 = oneShot.reduce((a, r) => a + r.accuracy, 0) / oneShot.length;
  console.log(`| ${v.name} | ${rows.map((r) => `${fmt(r.accuracy)} ± ${fmt(r.ci95)}`).join(' | ')} | ${fmt(mean1)} | ${best.t || '-'} | ${Number.isFinite(best.ece) ? best.ece.toFixed(3) : '-'} | ${Number.isFinite(au) ? au.toFixed(3) : '-'} |`);
  summary.push({ variant: v, known: known.length, mean1, temperature: best.t, ece: best.ece, auroc: au, rows: rows.map(({ records: _, ...r }) => r) });
}
console.log(`\nReference mean from ${REF_SET}. Centring here centres each example before averaging; the head centres the class mean (same at 1 shot).`);
if (values.json) console.log(JSON.stringify(summary));
