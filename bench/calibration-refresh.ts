/**
 * What the adaptive calibration costs: the first `classify` after a change refits the temperature and the
 * "unknown" threshold on a leave-one-out over the stored examples (src/calibration.ts). Prints that first
 * classify and the steady classify, with the model's defaults and with `calibrationWeight: null`, for a few
 * store sizes of random `mobilenet_v2_100`-sized embeddings (the cost depends on sizes, not on values).
 *
 *   npx tsx bench/calibration-refresh.ts
 */
import { seededRandom } from '../src/episodes.js';
import { headOptions } from '../src/head-defaults.js';
import { FewShotHead } from '../src/head.js';
import { MODELS } from '../src/models.js';

const spec = MODELS.mobilenet_v2_100;
const random = seededRandom(1);
const vector = () => Float32Array.from({ length: spec.dim }, () => random());
for (const [classes, shots] of [[5, 5], [20, 5], [50, 10], [100, 5]] as const) {
  const row: string[] = [`${classes} classes x ${shots} examples:`];
  for (const adaptive of [false, true]) {
    const firsts: number[] = [];
    let steady = 0;
    for (let run = 0; run < 5; run++) {
      const head = new FewShotHead({ ...headOptions(spec), ...(adaptive ? {} : { calibrationWeight: null }) });
      for (let c = 0; c < classes; c++) for (let s = 0; s < shots; s++) head.add(`${c}.${s}`, `c${c}`, vector());
      const query = vector();
      let started = performance.now();
      head.classify(query);
      firsts.push(performance.now() - started);
      started = performance.now();
      for (let i = 0; i < 100; i++) head.classify(query);
      steady = (performance.now() - started) / 100;
    }
    row.push(`${adaptive ? 'adaptive' : 'fixed'}: first ${Math.min(...firsts).toFixed(2)} ms, then ${steady.toFixed(3)} ms`);
  }
  console.log(row.join('  '));
}
