// Exploration: 5-way accuracy when the head's similarity mixes the final embedding's with a pooled mid-layer's.
import { join } from 'node:path';
import { scanImageClasses } from '../../node/dataset.js';
import { EmbeddingCache } from '../../node/embedding-cache.js';
import { FewShotHead } from '../../src/head.js';
import { MODELS } from '../../src/models.js';
import { sample, seededRandom } from '../../src/episodes.js';
import { datasetsDir, defaultCacheDir, DEV_DOMAINS } from '../dev-data.js';
import { powerNormalisedMean } from '../research-data.js';
const spec = MODELS.mobilenet_v1_025;
const blocks = { final: 256, c11: 128, c5: 64 } as const;
type B = keyof typeof blocks;
const caches = Object.fromEntries(await Promise.all(Object.entries(blocks).map(async ([k, d]) => [k, await EmbeddingCache.open(defaultCacheDir(), `mobilenet_v1_025@1+mid-${k}`, d)]))) as Record<B, EmbeddingCache>;
type Img = Record<B, Float32Array>;
const data: Record<string, Img[][]> = {};
for (const [name, dir] of Object.entries(DEV_DOMAINS)) {
  data[name] = await Promise.all(scanImageClasses(join(datasetsDir(), dir)).slice(0, 200).map((c) => Promise.all(c.items.map(async (p) => Object.fromEntries(await Promise.all((Object.keys(blocks) as B[]).map(async (b) => [b, (await caches[b].get(p))!]))) as Img))));
}
const power = 0.5;
const refs = Object.fromEntries((Object.keys(blocks) as B[]).map((b) => [b, powerNormalisedMean(data.caltech101!.flat().map((img) => img[b]), power)])) as Record<B, Float32Array>;
const mixes: Record<string, Partial<Record<B, number>>> = { base: { final: 1 } };
for (const a of [0.15, 0.3, 0.45]) { mixes[`c11 ${a}`] = { final: 1 - a, c11: a }; mixes[`c5 ${a}`] = { final: 1 - a, c5: a }; }
const res: Record<string, Record<string, number>> = {};
for (const shots of [1, 5]) for (const [name, classes] of Object.entries(data)) {
  const random = seededRandom(1009 * 5 + shots);
  const right: Record<string, number> = {}; let total = 0;
  for (let e = 0; e < 300; e++) {
    const picked = sample(classes, 5, random);
    const heads = Object.fromEntries((Object.keys(blocks) as B[]).map((b) => [b, new FewShotHead({ dim: blocks[b], temperature: 0.1, unknownThreshold: null, transform: { power, prior: spec.centringPrior, referenceMean: refs[b] } })])) as Record<B, FewShotHead>;
    const qs: { img: Img; k: number }[] = [];
    picked.forEach((items, k) => sample(items, shots + 10, random).forEach((img, j) => (j < shots ? (Object.keys(blocks) as B[]).forEach((b) => heads[b].add(`${k}/${j}`, String(k), img[b])) : qs.push({ img, k }))));
    const order = heads.final.listClasses().map((c) => Number(c.label));
    for (const q of qs) {
      total++;
      const sims = Object.fromEntries((Object.keys(blocks) as B[]).map((b) => [b, heads[b].prototypeSimilarities(q.img[b])])) as Record<B, Float64Array>;
      for (const [m, w] of Object.entries(mixes)) {
        const s = order.map((_, i) => Object.entries(w).reduce((a, [b, x]) => a + x! * sims[b as B][i]!, 0));
        right[m] = (right[m] ?? 0) + Number(order[s.indexOf(Math.max(...s))] === q.k);
      }
    }
  }
  for (const m of Object.keys(mixes)) (res[`${shots}s ${m}`] ??= {})[name] = (100 * right[m]!) / total;
  console.error(shots, name, Object.keys(mixes).map((m) => `${m} ${((100 * right[m]!) / total).toFixed(1)}`).join(' | '));
}
// Leave one domain out: the mix with the best mean 1-shot accuracy on the other six, judged on the seventh.
const names = Object.keys(data);
let lodo1 = 0, lodo5 = 0, base1 = 0, base5 = 0;
for (const d of names) {
  const others = names.filter((n) => n !== d);
  const best = Object.keys(mixes).reduce((a, m) => (others.reduce((s, n) => s + res[`1s ${m}`]![n]!, 0) > others.reduce((s, n) => s + res[`1s ${a}`]![n]!, 0) ? m : a), 'base');
  console.log(d.padEnd(22), 'chosen', best.padEnd(8), `1s ${res[`1s ${best}`]![d]!.toFixed(1)} vs ${res['1s base']![d]!.toFixed(1)}  5s ${res[`5s ${best}`]![d]!.toFixed(1)} vs ${res['5s base']![d]!.toFixed(1)}`);
  lodo1 += res[`1s ${best}`]![d]! / names.length; base1 += res['1s base']![d]! / names.length; lodo5 += res[`5s ${best}`]![d]! / names.length; base5 += res['5s base']![d]! / names.length;
}
console.log(`left-out mean 1s ${lodo1.toFixed(2)} vs base ${base1.toFixed(2)}; 5s ${lodo5.toFixed(2)} vs ${base5.toFixed(2)}`);
