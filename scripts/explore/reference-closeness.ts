// Exploration: does the prototypes' closeness in the reference-centred space (not the user-centred one) predict 1-shot accuracy across domains?
import { headOptions, referenceMean } from '../../src/head-defaults.js';
import { FewShotHead, softmax } from '../../src/head.js';
import { MODELS, type ModelName } from '../../src/models.js';
import { sample, seededRandom } from '../../src/episodes.js';
import { expectedCalibrationError } from '../../src/metrics.js';
import { flipAveraged, loadDevDomains } from '../research-data.js';

const model = (process.argv[2] ?? 'mobilenet_v2_100') as ModelName;
const spec = MODELS[model];
const ref = referenceMean(spec);
const domains = await loadDevDomains(model, 200);
const refCentred = (v: Float32Array) => {
  const x = Array.from(v, (a) => Math.sign(a) * Math.sqrt(Math.abs(a)));
  const n = Math.hypot(...x);
  const y = x.map((a, d) => a / n - ref[d]!);
  const m = Math.hypot(...y);
  return y.map((a) => a / m);
};
type Ep = { s: number; sims: Float64Array[]; correct: boolean[]; ways: number };
const eps: Record<string, Ep[]> = {};
for (const [domain, classes] of Object.entries(domains)) {
  const images = classes.map(flipAveraged);
  eps[domain] = [];
  for (const ways of [2, 5, 20]) {
    if (images.length <= ways) continue;
    const random = seededRandom(1009 * ways + 1);
    for (let e = 0; e < (ways > 5 ? 50 : 150); e++) {
      const picked = sample(images, ways, random);
      const head = new FewShotHead({ ...headOptions(spec), unknownThreshold: null, calibrationWeight: null });
      const protos: number[][] = [];
      const sims: Float64Array[] = []; const correct: boolean[] = [];
      const qs: { v: Float32Array; k: number }[] = [];
      picked.forEach((items, k) => {
        const chosen = sample(items, 11, random);
        head.add(`${k}`, String(k), chosen[0]!);
        protos.push(refCentred(chosen[0]!));
        for (const q of chosen.slice(1)) qs.push({ v: q, k });
      });
      let s = 0, n = 0;
      for (let i = 0; i < protos.length; i++) for (let j = i + 1; j < protos.length; j++) { s += protos[i]!.reduce((a, x, d) => a + x * protos[j]![d]!, 0); n++; }
      for (const q of qs) { const ss = head.prototypeSimilarities(q.v); sims.push(ss); let b = 0; ss.forEach((x, i) => { if (x > ss[b]!) b = i; }); correct.push(b === q.k); }
      eps[domain]!.push({ s: s / n, sims, correct, ways });
    }
  }
}
const top = (ss: Float64Array, t: number) => Math.max(...softmax(ss, t));
for (const ways of [2, 5, 20]) for (const [d, list] of Object.entries(eps)) {
  const l = list.filter((e) => e.ways === ways); if (!l.length) continue;
  const acc = l.flatMap((e) => e.correct).filter(Boolean).length / l.flatMap((e) => e.correct).length;
  const s = l.reduce((a, e) => a + e.s, 0) / l.length;
  const conf = l.flatMap((e) => e.sims.map((x) => top(x, spec.temperature)));
  console.log(`${ways}w ${d.padEnd(22)} acc ${acc.toFixed(3)} s_ref ${s.toFixed(3)} conf ${(conf.reduce((a, b) => a + b, 0) / conf.length).toFixed(3)}`);
}
// LODO: T = T0 * exp(b * (s - 0.3)), grid over (T0, b) minimising worst ECE on the other domains, all ways.
const ece = (list: Ep[], t0: number, b: number) => expectedCalibrationError(list.flatMap((e) => e.sims.map((x, i) => ({ confidence: top(x, t0 * Math.exp(b * (e.s - 0.3))), correct: e.correct[i]! }))));
const names = Object.keys(eps);
for (const useB of [false, true]) {
  const rows: string[] = [];
  for (const d of names) {
    let best = { t0: 0, b: 0, c: Infinity };
    for (let t0 = 0.03; t0 <= 0.3; t0 *= 1.08) for (let b = useB ? -4 : 0; b <= (useB ? 8 : 0); b += 0.5) {
      let worst = 0;
      for (const o of names) if (o !== d) for (const w of [2, 5, 20]) { const l = eps[o]!.filter((e) => e.ways === w); if (l.length) worst = Math.max(worst, ece(l, t0, b)); }
      if (worst < best.c) best = { t0, b, c: worst };
    }
    const per = [2, 5, 20].map((w) => { const l = eps[d]!.filter((e) => e.ways === w); return l.length ? ece(l, best.t0, best.b).toFixed(3) : '  -  '; });
    rows.push(`${d.slice(0, 12).padEnd(12)} T0 ${best.t0.toFixed(3)} b ${best.b} ECE 2/5/20w ${per.join(' ')}`);
  }
  console.log(useB ? 'with s_ref' : 'fixed T'); console.log(rows.join('\n'));
}
