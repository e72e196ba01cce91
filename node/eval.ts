import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sampleEpisode, seededRandom, meanCi95 } from '../src/episodes.js';
import type { Embedder } from '../src/embedder.js';
import { FewshotError } from '../src/errors.js';
import { headOptions, type HeadSettings } from '../src/head-defaults.js';
import { FewShotHead, type HeadOptions } from '../src/head.js';
import { auroc, expectedCalibrationError, reliabilityBins, type ReliabilityBin } from '../src/metrics.js';
import type { ModelName } from '../src/models.js';
import { decodeImage, mirrorImage } from '../src/pixels.js';
import { scanImageClasses } from './dataset.js';
import { embedFiles, type EmbeddingCache } from './embedding-cache.js';
import { PeerKnn } from './peer-knn.js';

export interface EvalOptions {
  /** A folder of class folders (see `scanImageClasses`); `DIR/one_shot_runs` adds Omniglot's official runs. */
  data: string;
  /** One setting; by default the suite 5-way and 20-way, 1 and 5 shots (those the data has classes for). */
  ways?: number;
  shots?: number;
  /** Query images per class and episode (default 15). */
  queries?: number;
  /** Episodes per 5-way setting (default 300); 20-way and wider settings run a third as many. */
  episodes: number;
  seed: number;
  head?: HeadSettings;
  /** Average each embedding with its mirror image's, as the classifier does by default. */
  flip?: boolean;
  /** Also run the peer (`@tensorflow-models/knn-classifier`, k=3 and k=1); needs a tfjs backend here. */
  peer?: boolean;
  /** Embeddings kept between runs. */
  plainCache?: EmbeddingCache;
  flipCache?: EmbeddingCache;
  onProgress?: (message: string) => void;
}

/** Mean accuracy over episodes and the half-width of its 95% confidence interval. */
export interface Stat {
  accuracy: number;
  ci95: number;
}

/** One N-way K-shot setting of a `fewshot eval` run. */
export interface SettingResult {
  ways: number;
  shots: number;
  episodes: number;
  /** The classifier's default head (or the `head` settings given). */
  ours: Stat;
  /** Plain prototype: mean of L2-normalised embeddings, cosine, no flip. */
  plain: Stat;
  /** The peer, `@tensorflow-models/knn-classifier`, with its default k=3 and with k=1, on plain embeddings. */
  peer_k3: Stat | null;
  peer_k1: Stat | null;
  /** Expected calibration error of our confidence (15 bins) and its reliability diagram (10 bins). */
  ece: number;
  reliability: ReliabilityBin[];
  /**
   * Open set: each episode also has queries from up to `ways` classes outside the support set (strangers).
   * AUROC of our similarity as an "unknown" score, and the rates at the head's threshold (`threshold`: the
   * model's, before it adapts to each episode's examples). `null` when the set has no class to spare.
   */
  open_set: { auroc: number; threshold: number | null; false_unknown: number; caught_unknown: number } | null;
}

/** Omniglot's official 20-way 1-shot runs (Lake et al. 2015): accuracy over all trials. */
export interface OfficialRunsResult {
  runs: number;
  trials: number;
  ours: number;
  plain: number;
  peer_k1: number | null;
  peer_k3: number | null;
}

/** The `fewshot eval --json` object. With one setting, its `ours` figures are repeated at the top level. */
export interface EvalResult {
  model: ModelName;
  data: string;
  classes: number;
  flip: boolean;
  head: string;
  seed: number;
  queries: number;
  settings: SettingResult[];
  official_runs: OfficialRunsResult | null;
  images_embedded: number;
  accuracy?: number;
  ci95?: number;
  ways?: number;
  shots?: number;
  episodes?: number;
}

const SUITE = [
  { ways: 5, shots: 1 },
  { ways: 5, shots: 5 },
  { ways: 20, shots: 1 },
  { ways: 20, shots: 5 },
];

/**
 * Runs seeded N-way K-shot episodes on a folder of images for our head, the plain prototype and the peer,
 * all on the same episodes and embeddings. Each image is embedded once and reused.
 */
export async function runEval(embedder: Embedder, options: EvalOptions): Promise<EvalResult> {
  const { episodes, seed } = options;
  const queries = options.queries ?? 15;
  for (const [name, value] of Object.entries({ ways: options.ways ?? 5, shots: options.shots ?? 1, queries, episodes })) {
    if (!Number.isInteger(value) || value < 1) throw new FewshotError('INVALID_ARGUMENT', `--${name} must be a positive integer, got ${value}.`);
  }
  if (!Number.isInteger(seed)) throw new FewshotError('INVALID_ARGUMENT', `--seed must be an integer, got ${seed}.`);
  if (options.ways !== undefined && options.ways < 2) throw new FewshotError('INVALID_ARGUMENT', '--ways must be at least 2.');
  const single = options.ways !== undefined || options.shots !== undefined;
  const requested = single ? [{ ways: options.ways ?? 5, shots: options.shots ?? 1 }] : SUITE;
  const all = scanImageClasses(options.data);
  const settings = requested.filter(({ ways, shots }) => all.filter((c) => c.items.length >= shots + queries).length >= ways);
  if (settings.length === 0) {
    const { ways, shots } = requested[0] as { ways: number; shots: number };
    throw new FewshotError(
      'INVALID_ARGUMENT',
      `${options.data} has too few classes with at least ${shots + queries} images: ${ways}-way ${shots}-shot with ${queries} queries needs ${ways}.`,
    );
  }
  const flip = options.flip ?? true;
  const vectors = new Vectors(embedder, flip, options.plainCache, options.flipCache);
  const spec = embedder.spec;
  const ourOptions = headOptions(spec, options.head);
  const plainOptions = headOptions(spec, { transform: 'plain' });
  const peer = options.peer ? new PeerKnn() : null;
  const results: SettingResult[] = [];
  for (const { ways, shots } of settings) {
    const eligible = all.filter((c) => c.items.length >= shots + queries);
    // Strangers come from up to `ways` classes outside the support set: any set with one class more than the
    // episode measures "unknown" (a set of 8 classes at 5-way has 3 stranger classes).
    const openSet = eligible.length > ways;
    const count = ways > 5 ? Math.ceil(episodes / 3) : episodes;
    const random = seededRandom(seed * 1009 + ways * 31 + shots);
    const acc = { ours: [] as number[], plain: [] as number[], k3: [] as number[], k1: [] as number[] };
    const confidences: { confidence: number; correct: boolean }[] = [];
    const knownSims: number[] = [];
    const unknownSims: number[] = [];
    let falseUnknown = 0;
    let caught = 0;
    for (let e = 0; e < count; e++) {
      // The classes after the first `ways` only give unknown queries.
      const episode = sampleEpisode(eligible, Math.min(eligible.length, 2 * ways), shots, queries, random);
      const knownLabels = new Set([...new Set(episode.support.map((s) => s.label))].slice(0, ways));
      const support = episode.support.filter((s) => knownLabels.has(s.label));
      const known = episode.queries.filter((q) => knownLabels.has(q.label));
      const unknown = episode.queries.filter((q) => !knownLabels.has(q.label));
      const paths = [...support, ...episode.queries].map((x) => x.item);
      await vectors.load(paths);
      const ours = new FewShotHead(ourOptions);
      const plain = new FewShotHead(plainOptions);
      support.forEach((s, i) => {
        ours.add(`s${i}`, s.label, vectors.ours(s.item));
        plain.add(`s${i}`, s.label, vectors.plain(s.item));
      });
      let right = 0;
      let plainRight = 0;
      for (const q of known) {
        const p = ours.classify(vectors.ours(q.item));
        const correct = p.label === q.label;
        right += Number(correct);
        plainRight += Number(plain.classify(vectors.plain(q.item)).label === q.label);
        confidences.push({ confidence: p.confidence, correct });
        knownSims.push(p.similarity);
        falseUnknown += Number(p.unknown);
      }
      for (const q of unknown) {
        const p = ours.classify(vectors.ours(q.item));
        unknownSims.push(p.similarity);
        caught += Number(p.unknown);
      }
      acc.ours.push(right / known.length);
      acc.plain.push(plainRight / known.length);
      if (peer) {
        const [k3, k1] = await peer.score(
          support.map((s) => ({ label: s.label, vector: vectors.plain(s.item) })),
          known.map((q) => ({ label: q.label, vector: vectors.plain(q.item) })),
          [3, 1],
        );
        acc.k3.push(k3 as number);
        acc.k1.push(k1 as number);
      }
      options.onProgress?.(`${ways}-way ${shots}-shot: episode ${e + 1}/${count}`);
    }
    const stat = (values: number[]): Stat => {
      const { mean, ci95 } = meanCi95(values);
      return { accuracy: mean, ci95 };
    };
    results.push({
      ways,
      shots,
      episodes: count,
      ours: stat(acc.ours),
      plain: stat(acc.plain),
      peer_k3: peer ? stat(acc.k3) : null,
      peer_k1: peer ? stat(acc.k1) : null,
      ece: expectedCalibrationError(confidences),
      reliability: reliabilityBins(confidences, 10),
      open_set: openSet
        ? {
            auroc: auroc(knownSims, unknownSims),
            threshold: ourOptions.unknownThreshold ?? null,
            false_unknown: falseUnknown / knownSims.length,
            caught_unknown: caught / unknownSims.length,
          }
        : null,
    });
  }
  const official = single ? null : await officialRuns(options.data, vectors, ourOptions, plainOptions, peer);
  const first = results[0] as SettingResult;
  return {
    model: spec.name,
    data: options.data,
    classes: all.length,
    flip,
    head: ourOptions.transform ? `${ourOptions.kind}, centred` : `${ourOptions.kind}, plain`,
    seed,
    queries,
    settings: results,
    official_runs: official,
    images_embedded: vectors.count,
    ...(single ? { accuracy: first.ours.accuracy, ci95: first.ours.ci95, ways: first.ways, shots: first.shots, episodes: first.episodes } : {}),
  };
}

/** Only Omniglot's official runs (`DIR/one_shot_runs`), with the same heads and options as `runEval`. */
export async function runOfficialRuns(
  embedder: Embedder,
  options: Pick<EvalOptions, 'data' | 'head' | 'flip' | 'peer' | 'plainCache' | 'flipCache'>,
): Promise<OfficialRunsResult | null> {
  const vectors = new Vectors(embedder, options.flip ?? true, options.plainCache, options.flipCache);
  const peer = options.peer ? new PeerKnn() : null;
  return officialRuns(options.data, vectors, headOptions(embedder.spec, options.head), headOptions(embedder.spec, { transform: 'plain' }), peer);
}

/** Omniglot's official runs, when `DIR/one_shot_runs/runNN/{training,test}` and `class_labels.txt` exist. */
async function officialRuns(
  data: string,
  vectors: Vectors,
  ourOptions: HeadOptions,
  plainOptions: HeadOptions,
  peer: PeerKnn | null,
): Promise<OfficialRunsResult | null> {
  const root = join(data, 'one_shot_runs');
  if (!existsSync(root)) return null;
  const runs = readdirSync(root).filter((r) => existsSync(join(root, r, 'class_labels.txt'))).sort();
  let trials = 0;
  const right = { ours: 0, plain: 0, k1: 0, k3: 0 };
  for (const run of runs) {
    // Each line: "test/itemNN.png training/classNN.png", the right training image for a test image.
    const pairs = (await readFile(join(root, run, 'class_labels.txt'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/).map((p) => join(root, run, p.replace(/^run\d+\//, ''))) as [string, string]);
    const training = [...new Set(pairs.map(([, t]) => t))].sort();
    await vectors.load([...training, ...pairs.map(([q]) => q)]);
    const ours = new FewShotHead(ourOptions);
    const plain = new FewShotHead(plainOptions);
    training.forEach((t, i) => {
      ours.add(`t${i}`, t, vectors.ours(t));
      plain.add(`t${i}`, t, vectors.plain(t));
    });
    for (const [query, answer] of pairs) {
      right.ours += Number(ours.classify(vectors.ours(query)).label === answer);
      right.plain += Number(plain.classify(vectors.plain(query)).label === answer);
    }
    if (peer) {
      const [k3, k1] = await peer.score(
        training.map((t) => ({ label: t, vector: vectors.plain(t) })),
        pairs.map(([q, a]) => ({ label: a, vector: vectors.plain(q) })),
        [3, 1],
      );
      right.k3 += (k3 as number) * pairs.length;
      right.k1 += (k1 as number) * pairs.length;
    }
    trials += pairs.length;
  }
  if (trials === 0) return null;
  return {
    runs: runs.length,
    trials,
    ours: right.ours / trials,
    plain: right.plain / trials,
    peer_k1: peer ? right.k1 / trials : null,
    peer_k3: peer ? right.k3 / trials : null,
  };
}

/** Plain and (optionally) flip-averaged embeddings of files, embedded once each. */
class Vectors {
  private readonly plainVectors = new Map<string, Float32Array>();
  private readonly flipVectors = new Map<string, Float32Array>();

  constructor(
    private readonly embedder: Embedder,
    private readonly flip: boolean,
    private readonly plainCache?: EmbeddingCache,
    private readonly flipCache?: EmbeddingCache,
  ) {}

  get count(): number {
    return this.plainVectors.size;
  }

  async load(paths: string[]): Promise<void> {
    const missing = [...new Set(paths.filter((p) => !this.plainVectors.has(p)))];
    if (missing.length === 0) return;
    const plain = await embedFiles(this.embedder, missing, this.plainCache);
    missing.forEach((p, i) => this.plainVectors.set(p, plain[i] as Float32Array));
    if (!this.flip) return;
    // The mirror image's embedding, cached on its own, averaged with the plain one as `embed({flip})` does.
    const mirrored = await embedFiles(this.embedder, missing, this.flipCache, async (p) => mirrorImage(decodeImage(await readFile(p))));
    missing.forEach((p, i) => {
      const a = plain[i] as Float32Array;
      const b = mirrored[i] as Float32Array;
      this.flipVectors.set(p, a.map((x, d) => (x + (b[d] as number)) / 2));
    });
  }

  plain(path: string): Float32Array {
    return this.plainVectors.get(path) as Float32Array;
  }

  ours(path: string): Float32Array {
    return (this.flip ? this.flipVectors.get(path) : this.plainVectors.get(path)) as Float32Array;
  }
}
