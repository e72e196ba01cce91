import { readFile } from 'node:fs/promises';
import type { HeadSettings } from '../src/classifier.js';
import type { Embedder } from '../src/embedder.js';
import { meanCi95, sampleEpisode, seededRandom } from '../src/episodes.js';
import { FewshotError } from '../src/errors.js';
import { FewShotHead } from '../src/head.js';
import type { ModelName } from '../src/models.js';
import { scanImageClasses } from './dataset.js';

export interface EvalOptions {
  /** A folder of class folders (see `scanImageClasses`). */
  data: string;
  ways: number;
  shots: number;
  /** Query images per class and episode (default 15). */
  queries?: number;
  episodes: number;
  seed: number;
  head?: HeadSettings;
  /** Called after each episode, for progress output. */
  onEpisode?: (done: number, total: number) => void;
}

/** The `fewshot eval --json` object. */
export interface EvalResult {
  accuracy: number;
  ci95: number;
  ways: number;
  shots: number;
  queries: number;
  episodes: number;
  seed: number;
  model: ModelName;
  head: string;
  data: string;
  classes: number;
  images_embedded: number;
}

/**
 * Runs seeded N-way K-shot episodes on a folder of images: mean query accuracy over episodes with its
 * 95% confidence interval. Each image is embedded once and reused by later episodes.
 */
export async function runEval(embedder: Embedder, options: EvalOptions): Promise<EvalResult> {
  const { ways, shots, episodes, seed } = options;
  const queries = options.queries ?? 15;
  for (const [name, value] of Object.entries({ ways, shots, queries, episodes })) {
    if (!Number.isInteger(value) || value < 1) throw new FewshotError('INVALID_ARGUMENT', `--${name} must be a positive integer, got ${value}.`);
  }
  if (!Number.isInteger(seed)) throw new FewshotError('INVALID_ARGUMENT', `--seed must be an integer, got ${seed}.`);
  if (ways < 2) throw new FewshotError('INVALID_ARGUMENT', '--ways must be at least 2.');
  const all = scanImageClasses(options.data);
  const eligible = all.filter((c) => c.items.length >= shots + queries);
  if (eligible.length < ways) {
    throw new FewshotError(
      'INVALID_ARGUMENT',
      `${options.data} has ${eligible.length} classes with at least ${shots + queries} images; ${ways}-way ${shots}-shot with ${queries} queries needs ${ways}.`,
    );
  }
  const cache = new Map<string, Float32Array>();
  const embed = async (paths: string[]) => {
    const missing = [...new Set(paths.filter((p) => !cache.has(p)))];
    const vectors = await embedder.embedBatch(await Promise.all(missing.map((p) => readFile(p))));
    missing.forEach((p, i) => cache.set(p, vectors[i] as Float32Array));
  };
  const random = seededRandom(seed);
  const accuracies: number[] = [];
  const settings = options.head ?? {};
  for (let e = 0; e < episodes; e++) {
    const episode = sampleEpisode(eligible, ways, shots, queries, random);
    await embed([...episode.support, ...episode.queries].map((x) => x.item));
    const head = new FewShotHead({
      dim: embedder.spec.dim,
      kind: settings.kind ?? 'prototype',
      k: settings.k ?? 10,
      temperature: settings.temperature ?? embedder.spec.temperature,
    });
    episode.support.forEach((s, i) => head.add(`s${i}`, s.label, cache.get(s.item) as Float32Array));
    const correct = episode.queries.filter((q) => head.classify(cache.get(q.item) as Float32Array).label === q.label).length;
    accuracies.push(correct / episode.queries.length);
    options.onEpisode?.(e + 1, episodes);
  }
  const { mean, ci95 } = meanCi95(accuracies);
  return {
    accuracy: mean,
    ci95,
    ways,
    shots,
    queries,
    episodes,
    seed,
    model: embedder.spec.name,
    head: settings.kind ?? 'prototype',
    data: options.data,
    classes: eligible.length,
    images_embedded: cache.size,
  };
}
