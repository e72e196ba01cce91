// Does an example's crop-view closeness predict how tight its class is (the 1-shot unknown)? Per domain means.
import { EmbeddingCache } from '../../node/embedding-cache.js';
import { referenceMean } from '../../src/head-defaults.js';
import { MODELS, type ModelName } from '../../src/models.js';
import { defaultCacheDir } from '../dev-data.js';
import { loadDevDomains } from '../research-data.js';
const model = process.argv[2] as ModelName;
const dim = MODELS[model].dim;
const ref = referenceMean(MODELS[model]);
const open = (s: string) => EmbeddingCache.open(defaultCacheDir(), `${model}@1${s}`, dim);
const crops = await Promise.all(['c', 'tl', 'tr', 'bl', 'br'].map((p) => open(`+crop80-${p}`)));
const prep = (v: Float32Array) => { const o = new Float32Array(dim); let n = 0; for (let d = 0; d < dim; d++) { o[d] = v[d]! - ref[d]!; n += o[d]! ** 2; } n = Math.sqrt(n); return o.map((x) => x / n); };
const cos = (a: Float32Array, c: Float32Array) => { let s = 0; for (let d = 0; d < dim; d++) s += a[d]! * c[d]!; return s; };
for (const [name, classes] of Object.entries(await loadDevDomains(model, 60))) {
  let within = 0, wn = 0, between = 0, bn = 0, view = 0, vn = 0;
  const firsts: Float32Array[] = [];
  for (const c of classes) {
    const items = c.paths.slice(0, 6);
    const vs = c.items.slice(0, 6).map(prep);
    for (let i = 0; i < vs.length; i++) for (let j = i + 1; j < vs.length; j++) { within += cos(vs[i]!, vs[j]!); wn++; }
    for (const [i, p] of items.entries()) for (const k of crops) { view += cos(vs[i]!, prep((await k.get(p))!)); vn++; }
    firsts.push(vs[0]!);
  }
  for (let i = 0; i < firsts.length; i++) for (let j = i + 1; j < firsts.length; j++) { between += cos(firsts[i]!, firsts[j]!); bn++; }
  console.log(name.padEnd(22), 'within', (within / wn).toFixed(3), 'between', (between / bn).toFixed(3), 'gap', (within / wn - between / bn).toFixed(3), 'view', (view / vn).toFixed(3));
}
