// MAP temperature vs the posterior predictive (softmax averaged over the temperature's posterior), 5-shot ECE per domain.
import { flipAveraged, loadDevDomains } from '../research-data.js';
import { headOptions } from '../../src/head-defaults.js';
import { FewShotHead, softmax } from '../../src/head.js';
import { MODELS, type ModelName } from '../../src/models.js';
import { sample, seededRandom } from '../../src/episodes.js';
import { expectedCalibrationError } from '../../src/metrics.js';
import { negativeLogLikelihood, type HeldOutScore } from '../../src/calibration.js';
const model = process.argv[2] as ModelName;
const ways = Number(process.argv[3] ?? 2), shots = Number(process.argv[4] ?? 5), w = Number(process.argv[5] ?? 1);
const spec = MODELS[model];
const T0 = Number(process.env.T0 ?? spec.temperature);
const grid = Array.from({ length: 49 }, (_, s) => T0 * 10 ** ((2 * s) / 48 - 1));
function posterior(held: HeldOutScore[]): Float64Array {
  const cost = grid.map((t) => w * Math.log(t / T0) ** 2 + held.reduce((a, h) => a + negativeLogLikelihood(h.sims, h.truth, t), 0));
  const min = Math.min(...cost); const p = Float64Array.from(cost, (c) => Math.exp(min - c)); const z = p.reduce((a, b) => a + b); return p.map((x) => x / z);
}
const domains = await loadDevDomains(model, 200);
const sums = { map: 0, pp: 0, n: 0 };
for (const [name, classes] of Object.entries(domains)) {
  const images = classes.map(flipAveraged);
  const random = seededRandom(1009 * ways + shots);
  const map: { confidence: number; correct: boolean }[] = [], pp: typeof map = [];
  for (let e = 0; e < 150; e++) {
    const picked = sample(images, ways, random);
    const head = new FewShotHead({ ...headOptions(spec), calibrationWeight: null, unknownThreshold: null });
    const qs: { v: Float32Array; k: number }[] = [];
    picked.forEach((items, k) => sample(items, shots + 10, random).forEach((v, j) => (j < shots ? head.add(`${k}/${j}`, String(k), v) : qs.push({ v, k }))));
    const held = head.heldOutScores();
    const post = posterior(held);
    const tMap = grid[post.indexOf(Math.max(...post))]!;
    const order = head.listClasses().map((c) => Number(c.label));
    for (const q of qs) {
      const sims = head.prototypeSimilarities(q.v);
      const best = sims.indexOf(Math.max(...sims));
      const correct = order[best] === q.k;
      map.push({ confidence: softmax(sims, tMap)[best]!, correct });
      let c = 0; grid.forEach((t, i) => { if (post[i]! > 1e-6) c += post[i]! * softmax(sims, t)[best]!; });
      pp.push({ confidence: c, correct });
    }
  }
  const a = expectedCalibrationError(map), b = expectedCalibrationError(pp);
  sums.map = Math.max(sums.map, a); sums.pp = Math.max(sums.pp, b); sums.n++;
  console.log(name.slice(0, 14).padEnd(14), `map ${a.toFixed(3)}  postpred ${b.toFixed(3)}`);
}
console.log('worst', sums);
