// Exploration: 5-way accuracy when each stored example averages its embedding with crops' (add-time views only).
import { EmbeddingCache } from '../../node/embedding-cache.js';
import { headOptions } from '../../src/head-defaults.js';
import { FewShotHead } from '../../src/head.js';
import { MODELS, type ModelName } from '../../src/models.js';
import { sample, seededRandom } from '../../src/episodes.js';
import { defaultCacheDir } from '../dev-data.js';
import { flipAveraged, loadDevDomains } from '../research-data.js';
const model = process.argv[2] as ModelName;
const scale = process.argv[3] ?? '80';
const spec = MODELS[model];
const positions = ['c', 'tl', 'tr', 'bl', 'br'];
const open = (suffix: string) => EmbeddingCache.open(defaultCacheDir(), `${model}@1${suffix}`, spec.dim);
const crops = await Promise.all(positions.map((p) => open(`+crop${scale}-${p}`)));
type Img = { avg: Float32Array; crops: Float32Array[] };
const variants: Record<string, (i: Img) => Float32Array> = {
  base: (i) => i.avg,
  centre: (i) => i.avg.map((v, d) => (v + i.crops[0]![d]!) / 2),
  'views7': (i) => i.avg.map((v, d) => (2 * v + i.crops.reduce((a, c) => a + c[d]!, 0)) / 7),
  'half5': (i) => i.avg.map((v, d) => 0.5 * v + 0.5 * i.crops.reduce((a, c) => a + c[d]!, 0) / 5),
  'corners': (i) => i.avg.map((v, d) => (2 * v + i.crops.slice(1).reduce((a, c) => a + c[d]!, 0)) / 6),
};
const out: string[] = [];
const sums: Record<string, number[]> = {};
for (const [name, dev] of Object.entries(await loadDevDomains(model, 200))) {
  const classes: Img[][] = [];
  for (const c of dev) { // a class at a time: a re-mounted dataset makes every cache read hash its file
    const averaged = flipAveraged(c);
    classes.push(await Promise.all(c.paths.map(async (p, i) => ({ avg: averaged[i]!, crops: await Promise.all(crops.map(async (k) => (await k.get(p))!)) }))));
  }
  const row: string[] = [];
  for (const shots of [1, 5]) {
    const random = seededRandom(1009 * 5 + shots);
    const right: Record<string, number> = {}; let total = 0;
    for (let e = 0; e < 300; e++) {
      const picked = sample(classes, 5, random);
      const heads = Object.fromEntries(Object.keys(variants).map((v) => [v, new FewShotHead({ ...headOptions(spec), unknownThreshold: null })]));
      const qs: { v: Float32Array; k: number }[] = [];
      picked.forEach((items, k) => sample(items, shots + 10, random).forEach((img, j) => {
        if (j < shots) for (const [v, f] of Object.entries(variants)) heads[v]!.add(`${k}/${j}`, String(k), f(img));
        else qs.push({ v: img.avg, k });
      }));
      for (const q of qs) { total++; for (const v of Object.keys(variants)) right[v] = (right[v] ?? 0) + Number(heads[v]!.classify(q.v).label === String(q.k)); }
    }
    row.push(`${shots}s ` + Object.keys(variants).map((v) => { const a = (100 * right[v]!) / total; (sums[`${shots}s ${v}`] ??= []).push(a); return `${v} ${a.toFixed(1)}`; }).join(' '));
  }
  out.push(`${name.slice(0, 14).padEnd(14)} ${row.join(' | ')}`);
  console.log(out.at(-1));
}
console.log('mean', Object.entries(sums).map(([k, v]) => `${k} ${(v.reduce((a, b) => a + b) / v.length).toFixed(2)}`).join('  '));
