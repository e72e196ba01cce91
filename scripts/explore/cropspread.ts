// Does an example's crop-view closeness predict how tight its class is (the 1-shot unknown)? Per domain means.
import { join } from 'node:path';
import { scanImageClasses } from '../../node/dataset.js';
import { EmbeddingCache } from '../../node/embedding-cache.js';
import { MODELS, type ModelName } from '../../src/models.js';
import { REFERENCE_MEANS_BASE64 } from '../../src/reference-means.js';
import { datasetsDir, defaultCacheDir, DEV_DOMAINS } from '../dev-data.js';
const model = process.argv[2] as ModelName;
const dim = MODELS[model].dim;
const b = Buffer.from(REFERENCE_MEANS_BASE64[model], 'base64');
const ref = new Float32Array(b.buffer, b.byteOffset, dim);
const open = (s: string) => EmbeddingCache.open(defaultCacheDir(), `${model}@1${s}`, dim);
const [plain, ...crops] = await Promise.all([open(''), ...['c', 'tl', 'tr', 'bl', 'br'].map((p) => open(`+crop80-${p}`))]);
const prep = (v: Float32Array) => { const o = new Float32Array(dim); let n = 0; for (let d = 0; d < dim; d++) { o[d] = v[d]! - ref[d]!; n += o[d]! ** 2; } n = Math.sqrt(n); return o.map((x) => x / n); };
const cos = (a: Float32Array, c: Float32Array) => { let s = 0; for (let d = 0; d < dim; d++) s += a[d]! * c[d]!; return s; };
for (const [name, dir] of Object.entries(DEV_DOMAINS)) {
  const classes = scanImageClasses(join(datasetsDir(), dir)).slice(0, 60);
  let within = 0, wn = 0, between = 0, bn = 0, view = 0, vn = 0;
  const firsts: Float32Array[] = [];
  for (const c of classes) {
    const items = c.items.slice(0, 6);
    const vs = await Promise.all(items.map(async (p) => prep((await plain.get(p))!)));
    for (let i = 0; i < vs.length; i++) for (let j = i + 1; j < vs.length; j++) { within += cos(vs[i]!, vs[j]!); wn++; }
    for (const [i, p] of items.entries()) for (const k of crops) { view += cos(vs[i]!, prep((await k.get(p))!)); vn++; }
    firsts.push(vs[0]!);
  }
  for (let i = 0; i < firsts.length; i++) for (let j = i + 1; j < firsts.length; j++) { between += cos(firsts[i]!, firsts[j]!); bn++; }
  console.log(name.padEnd(22), 'within', (within / wn).toFixed(3), 'between', (between / bn).toFixed(3), 'gap', (within / wn - between / bn).toFixed(3), 'view', (view / vn).toFixed(3));
}
