/**
 * Chooses the plain cosine head's softmax temperature (`transform: 'plain'`, the model's `plainTemperature`)
 * on the cached development embeddings (run scripts/embed-datasets.ts first), with the product's own
 * FewShotHead: the one with the lowest worst-case expected calibration error (ECE, 15 bins; Guo et al. 2017)
 * over every dataset and setting from 2 to 50 classes and 1 to 5 shots, flip averaging on as the classifier
 * defaults. That head has no "unknown", so its threshold line is for information only.
 *
 * The default head's constants (temperature, growth, calibration weight, "unknown" threshold and spread) come
 * from scripts/lodo.ts, by leave-one-domain-out over the seven development domains.
 *
 *   npm run calibrate -- [--model mobilenet_v2_100] [--episodes 200] [--json]
 */
import { parseArgs } from 'node:util';
import { sampleEpisode, seededRandom } from '../src/episodes.js';
import { headOptions } from '../src/head-defaults.js';
import { FewShotHead } from '../src/head.js';
import { auroc, expectedCalibrationError } from '../src/metrics.js';
import { isModelName, MODELS } from '../src/models.js';
import { flipAveraged, loadDevSets, type DevSet } from './research-data.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'mobilenet_v2_100' },
    episodes: { type: 'string', default: '200' },
    json: { type: 'boolean', default: false },
  },
});
const model = values.model as string;
if (!isModelName(model)) throw new Error(`unknown model ${model}`);
const spec = MODELS[model];
const EPISODES = Number(values.episodes);
// The plain head's temperature does not grow with classes (see `headOptions`): one value per model.
const TEMPERATURES = Array.from({ length: 17 }, (_, i) => Math.round(1000 * (0.01 + i * 0.0025)) / 1000);
const WAYS = [2, 5, 20, 50];
const SHOTS = [1, 2, 5];
// 8%, not the 10% allowed: two points of margin for data unlike the development sets.
const FALSE_UNKNOWN_BUDGET = 0.08;
const sets = await loadDevSets(model);

interface Query {
  /** Similarities to each class, for re-scoring under any temperature. */
  sims: Float64Array;
  truth: number;
  known: boolean;
}

/** Flip-averaged embeddings, as the classifier makes them by default. */
const averaged = new Map<DevSet, { name: string; items: Float32Array[] }[]>();
for (const set of Object.keys(sets) as DevSet[]) {
  averaged.set(
    set,
    sets[set].map((c) => ({ name: c.name, items: flipAveraged(c) })),
  );
}

function runSetting(set: DevSet, ways: number, shots: number): Query[] {
  const classes = averaged.get(set)!;
  const random = seededRandom(7919 * ways + shots);
  const out: Query[] = [];
  const episodes = Math.max(20, Math.round((EPISODES * 5) / Math.max(5, ways)));
  // The head's own similarities; the temperature is applied afterwards, so one pass serves every T.
  const options = headOptions(spec, { transform: 'plain' });
  for (let e = 0; e < episodes; e++) {
    const episode = sampleEpisode(classes, 2 * ways, shots, 10, random);
    const labels = [...new Set(episode.support.map((s) => s.label))];
    const known = new Set(labels.slice(0, ways));
    const head = new FewShotHead(options);
    episode.support.filter((s) => known.has(s.label)).forEach((s, i) => head.add(`s${i}`, s.label, s.item));
    const order = head.listClasses().map((c) => c.label);
    for (const q of episode.queries) out.push({ sims: head.prototypeSimilarities(q.item), truth: order.indexOf(q.label), known: known.has(q.label) });
  }
  return out;
}

function confidence(sims: Float64Array, t: number): { confidence: number; argmax: number } {
  let max = -Infinity;
  let argmax = 0;
  sims.forEach((s, i) => {
    if (s > max) [max, argmax] = [s, i];
  });
  let total = 0;
  for (const s of sims) total += Math.exp((s - max) / t);
  return { confidence: 1 / total, argmax };
}

const rows: { set: DevSet; ways: number; shots: number; queries: Query[] }[] = [];
for (const set of Object.keys(sets) as DevSet[]) {
  for (const ways of WAYS) {
    if (sets[set].length < 2 * ways) continue;
    for (const shots of SHOTS) {
      rows.push({ set, ways, shots, queries: runSetting(set, ways, shots) });
      process.stderr.write(`${set} ${ways}-way ${shots}-shot done\n`);
    }
  }
}

const eceAt = (t: number) =>
  rows.map((r) =>
    expectedCalibrationError(
      r.queries.filter((q) => q.known).map((q) => {
        const c = confidence(q.sims, t);
        return { confidence: c.confidence, correct: c.argmax === q.truth };
      }),
    ),
  );
const grid = TEMPERATURES.map((t) => {
  const e = eceAt(t);
  return { t, mean: e.reduce((a, x) => a + x, 0) / e.length, worst: Math.max(...e) };
});
const chosen = grid.reduce((a, b) => (b.worst < a.worst ? b : a));

const best = (q: Query) => Math.max(...q.sims);
const quantile = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))] as number;
// The largest threshold meeting the budget everywhere, rounded down to 0.01 so it stays on the safe side.
const threshold = Math.floor(100 * Math.min(...rows.map((r) => quantile(r.queries.filter((q) => q.known).map(best), FALSE_UNKNOWN_BUDGET)))) / 100;
const perSetting = rows.map((r) => {
  const knownSims = r.queries.filter((q) => q.known).map(best);
  const unknown = r.queries.filter((q) => !q.known).map(best);
  const ece = eceAt(chosen.t)[rows.indexOf(r)] as number;
  const known = r.queries.filter((q) => q.known);
  const eceOf = (t: number) => expectedCalibrationError(known.map((q) => { const c = confidence(q.sims, t); return { confidence: c.confidence, correct: c.argmax === q.truth }; }));
  const fine = Array.from({ length: 31 }, (_, i) => 0.02 + i * 0.003);
  const bestT = fine.reduce((a, t) => (eceOf(t) < eceOf(a) ? t : a));
  return {
    set: r.set,
    ways: r.ways,
    shots: r.shots,
    best_t: bestT,
    ece,
    auroc: auroc(knownSims, unknown),
    false_unknown: knownSims.filter((s) => s < threshold).length / knownSims.length,
    caught_unknown: unknown.filter((s) => s < threshold).length / unknown.length,
  };
});

const result = { model, head: 'plain', temperature: chosen.t, temperature_grid: grid, unknown_threshold: threshold, settings: perSetting };
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`${model} (plain head): temperature ${chosen.t} (worst ECE ${chosen.worst.toFixed(3)}, mean ${chosen.mean.toFixed(3)}); unknown threshold ${threshold}`);
  console.log(`T grid: ${grid.map((g) => `${g.t}: mean ${g.mean.toFixed(3)} worst ${g.worst.toFixed(3)}`).join('; ')}`);
  console.log('| dataset | ways | shots | best T | ECE | AUROC | false unknown | unknowns caught |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const s of perSetting) {
    console.log(`| ${s.set} | ${s.ways} | ${s.shots} | ${s.best_t.toFixed(3)} | ${s.ece.toFixed(3)} | ${s.auroc.toFixed(3)} | ${(100 * s.false_unknown).toFixed(1)}% | ${(100 * s.caught_unknown).toFixed(1)}% |`);
  }
}
