/**
 * Chooses each model's softmax temperature so that `confidence` is calibrated: for a grid of temperatures,
 * runs seeded episodes (5-way 1-shot, 5-way 5-shot, 20-way 1-shot) on the development data and reports
 * the expected calibration error (ECE, 15 equal-width bins; Guo et al., "On Calibration of Modern Neural
 * Networks", 2017). The temperature with the lowest mean ECE is the model's default in src/models.ts.
 *
 *   npm run calibrate -- [--model mobilenet_v2_100] [--episodes 200] [--omniglot-classes 60] [--json]
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { sampleEpisode, seededRandom, sample } from '../src/episodes.js';
import { FewShotHead } from '../src/head.js';
import { isModelName, type ModelName } from '../src/models.js';
import { scanImageClasses, type ImageClass } from '../node/dataset.js';
import { loadNodeEmbedder } from '../node/index.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'mobilenet_v2_100' },
    episodes: { type: 'string', default: '200' },
    'omniglot-classes': { type: 'string', default: '60' },
    json: { type: 'boolean', default: false },
  },
});
const model = values.model as ModelName;
if (!isModelName(model)) throw new Error(`unknown model ${model}`);
const episodes = Number(values.episodes);
const datasets = resolve(process.env.FEWSHOT_DATASETS || join(import.meta.dirname, '..', '..', 'shared', 'datasets'));
const log = (line: string) => process.stderr.write(`${line}\n`);

const embedder = await loadNodeEmbedder({ model });
const caltech = scanImageClasses(join(datasets, 'caltech101'));
// A seeded subset of Omniglot's background alphabets keeps the run short; its evaluation alphabets are left
// for measuring, not tuning.
const omniglot = sample(scanImageClasses(join(datasets, 'omniglot', 'background_images')), Number(values['omniglot-classes']), seededRandom(11));

async function embedAll(classes: ImageClass[], name: string): Promise<{ name: string; items: Float32Array[] }[]> {
  const out: { name: string; items: Float32Array[] }[] = [];
  for (const [i, c] of classes.entries()) {
    out.push({ name: c.name, items: await embedder.embedBatch(await Promise.all(c.items.map((p) => readFile(p)))) });
    if (i % 10 === 9) log(`${name}: embedded ${i + 1}/${classes.length} classes`);
  }
  return out;
}

const data = { caltech101: await embedAll(caltech, 'caltech101'), omniglot_background: await embedAll(omniglot, 'omniglot') };
const settings = [
  { ways: 5, shots: 1 },
  { ways: 5, shots: 5 },
  { ways: 20, shots: 1 },
];

/** Confidence/correctness pairs of the prototype head over seeded episodes. */
function predictions(classes: { name: string; items: Float32Array[] }[], ways: number, shots: number, temperature: number) {
  const random = seededRandom(1);
  const pairs: { confidence: number; correct: boolean }[] = [];
  for (let e = 0; e < episodes; e++) {
    const episode = sampleEpisode(classes, ways, shots, 10, random);
    const head = new FewShotHead({ dim: embedder.spec.dim, temperature });
    episode.support.forEach((s, i) => head.add(`s${i}`, s.label, s.item));
    for (const q of episode.queries) {
      const p = head.classify(q.item);
      pairs.push({ confidence: p.confidence, correct: p.label === q.label });
    }
  }
  return pairs;
}

export function expectedCalibrationError(pairs: { confidence: number; correct: boolean }[], bins = 15): number {
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    const inBin = pairs.filter((p) => p.confidence > b / bins && p.confidence <= (b + 1) / bins);
    if (inBin.length === 0) continue;
    const accuracy = inBin.filter((p) => p.correct).length / inBin.length;
    const confidence = inBin.reduce((a, p) => a + p.confidence, 0) / inBin.length;
    ece += (inBin.length / pairs.length) * Math.abs(accuracy - confidence);
  }
  return ece;
}

const temperatures = [0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.05, 0.06, 0.08, 0.1];
const rows = temperatures.map((temperature) => {
  const cells: Record<string, number> = {};
  for (const [name, classes] of Object.entries(data)) {
    for (const { ways, shots } of settings) cells[`${name} ${ways}w${shots}s`] = expectedCalibrationError(predictions(classes, ways, shots, temperature));
  }
  const mean = Object.values(cells).reduce((a, b) => a + b, 0) / Object.values(cells).length;
  return { temperature, mean_ece: mean, ece: cells };
});
const best = rows.reduce((a, b) => (b.mean_ece < a.mean_ece ? b : a));
if (values.json) {
  process.stdout.write(`${JSON.stringify({ model, episodes, best_temperature: best.temperature, rows })}\n`);
} else {
  const columns = Object.keys(rows[0]!.ece);
  console.log(`ECE of the prototype head's confidence, ${model}, ${episodes} episodes per setting (lower is better)`);
  console.log(['T', 'mean', ...columns].join('\t'));
  for (const r of rows) console.log([r.temperature, r.mean_ece.toFixed(3), ...columns.map((c) => r.ece[c]!.toFixed(3))].join('\t'));
  console.log(`best temperature for ${model}: ${best.temperature} (mean ECE ${best.mean_ece.toFixed(3)})`);
}
