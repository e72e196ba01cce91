import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadNodeEmbedder, useWasmBackend, type Embedder } from '../node/index.js';
import { runEval, runOfficialRuns } from '../node/eval.js';
import { datasetsDir } from './paths.js';

/**
 * On fixed seeded episodes of the development data, the default head (power transform, blended centring,
 * flip averaging) beats the plain prototype and the peer. The margins are half of what these very
 * episodes measured (v1 model, 5-way 1-shot): Caltech-101 +1.6 points, Omniglot background +2.4.
 */
describe('default head quality on real data', () => {
  let embedder: Embedder;
  beforeAll(async () => {
    embedder = await loadNodeEmbedder({ model: 'mobilenet_v1_025' });
    await useWasmBackend(); // the peer runs in this thread
  }, 120_000);

  const cases = [
    { data: 'caltech101', episodes: 60, margin: 0.008, measured: 0.766 },
    { data: join('omniglot', 'background_images'), episodes: 40, margin: 0.012, measured: 0.791 },
  ];
  for (const c of cases) {
    it(`${c.data}: beats the plain prototype by at least ${100 * c.margin} points and the peer at k=3 and k=1`, async () => {
      const r = await runEval(embedder, { data: join(datasetsDir, c.data), ways: 5, shots: 1, episodes: c.episodes, seed: 1, peer: true });
      const s = r.settings[0]!;
      expect(s.ours.accuracy).toBeCloseTo(c.measured, 2);
      expect(s.ours.accuracy - s.plain.accuracy).toBeGreaterThanOrEqual(c.margin);
      expect(s.ours.accuracy).toBeGreaterThan(s.peer_k1!.accuracy);
      // k=3 with one example per class is a vote among three different classes: the first one added wins.
      expect(s.ours.accuracy).toBeGreaterThan(s.peer_k3!.accuracy + 0.3);
      expect(s.ece).toBeLessThan(0.1);
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
});
