import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNodeEmbedder, useWasmBackend, type Embedder } from '../node/index.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { EmbeddingCache } from '../node/embedding-cache.js';
import { runEval, runOfficialRuns, type SettingResult } from '../node/eval.js';
import { datasetsDir } from './paths.js';

/**
 * On fixed seeded episodes of the development data, the default head (power transform, blended centring,
 * flip averaging) beats the plain prototype and the peer. The margins are half of what these very
 * episodes measured (v1 model, 5-way 1-shot): Caltech-101 +1.6 points, Omniglot background +2.4.
 */
describe('default head quality on real data', () => {
  let embedder: Embedder;
  // One embedding cache for the whole file, so each image is embedded once however many runs use it.
  let caches: { plainCache: EmbeddingCache; flipCache: EmbeddingCache };
  beforeAll(async () => {
    embedder = await loadNodeEmbedder({ model: 'mobilenet_v1_025' });
    await useWasmBackend(); // the peer runs in this thread
    const dir = mkdtempSync(join(tmpdir(), 'fewshot-quality-'));
    caches = { plainCache: await EmbeddingCache.open(dir, 'plain', 256), flipCache: await EmbeddingCache.open(dir, 'flip', 256) };
  }, 120_000);

  const cases = [
    { data: 'caltech101', episodes: 60, margin: 0.008, measured: 0.766 },
    { data: join('omniglot', 'background_images'), episodes: 40, margin: 0.012, measured: 0.791 },
  ];
  for (const c of cases) {
    it(`${c.data}: beats the plain prototype by at least ${100 * c.margin} points and the peer at k=3 and k=1`, async () => {
      const r = await runEval(embedder, { data: join(datasetsDir, c.data), ways: 5, shots: 1, episodes: c.episodes, seed: 1, peer: true, ...caches });
      const s = r.settings[0]!;
      expect(s.ours.accuracy).toBeCloseTo(c.measured, 2);
      expect(s.ours.accuracy - s.plain.accuracy).toBeGreaterThanOrEqual(c.margin);
      expect(s.ours.accuracy).toBeGreaterThan(s.peer_k1!.accuracy);
      // k=3 with one example per class is a vote among three different classes: the first one added wins.
      expect(s.ours.accuracy).toBeGreaterThan(s.peer_k3!.accuracy + 0.3);
      // One example per class: the temperature cannot know the domain, so it is set so that confidence does not
      // promise more than it delivers on any development domain (docs/ACCURACY.md).
      expect(meanConfidence(s)).toBeLessThanOrEqual(s.ours.accuracy + 0.05);
      expect(s.open_set?.auroc).toBeGreaterThan(0.7);
      expect(s.open_set?.false_unknown).toBeLessThanOrEqual(0.1);
    }, 240_000);
  }

  it("reads Omniglot's 20 official 20-way 1-shot runs: 400 trials, ours above the plain prototype", async () => {
    const r = await runOfficialRuns(embedder, { data: join(datasetsDir, 'omniglot'), peer: true });
    expect(r).toMatchObject({ runs: 20, trials: 400 });
    expect(r!.ours).toBeGreaterThan(r!.plain);
    expect(r!.ours).toBeGreaterThan(r!.peer_k3!);
    expect(r!.plain).toBeCloseTo(r!.peer_k1!, 2); // same cosine nearest neighbour at one shot
  }, 240_000);

  // The constants were fitted on 2 to 20 classes with 1 and 5 shots (scripts/lodo.ts); check both extremes here.
  it('temperature and threshold hold at the extremes: 2-way 1-shot and 50-way 5-shot, and adapt at 2-way 5-shot', async () => {
    const two = await runEval(embedder, { data: join(datasetsDir, 'caltech101'), ways: 2, shots: 1, episodes: 100, seed: 2, ...caches });
    const fifty = await runEval(embedder, { data: join(datasetsDir, 'omniglot', 'background_images'), ways: 50, shots: 5, episodes: 15, seed: 2, ...caches });
    for (const s of [two.settings[0]!, fifty.settings[0]!]) expect(s.open_set!.false_unknown).toBeLessThanOrEqual(0.1);
    expect(two.settings[0]!.ece).toBeLessThan(0.1);
    // 50 classes lie outside the fitted range; the temperature fitted on the user's examples still holds it near.
    expect(fifty.settings[0]!.ece).toBeLessThan(0.15);
    // From two examples per class the threshold follows the user's own examples: most strangers are caught.
    const fiveShot = (await runEval(embedder, { data: join(datasetsDir, 'caltech101'), ways: 2, shots: 5, episodes: 100, seed: 2, ...caches })).settings[0]!;
    expect(fiveShot.ece).toBeLessThan(0.05);
    expect(fiveShot.open_set!.caught_unknown).toBeGreaterThan(0.5);
    expect(fiveShot.open_set!.false_unknown).toBeLessThanOrEqual(0.15);
  }, 240_000);
});

/** Mean confidence over a setting's known queries, from its reliability bins. */
function meanConfidence(s: SettingResult): number {
  const count = s.reliability.reduce((a, b) => a + b.count, 0);
  return s.reliability.reduce((a, b) => a + b.confidence * b.count, 0) / count;
}
