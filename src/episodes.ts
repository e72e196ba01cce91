/**
 * Seeded N-way K-shot episodes and their statistics: the standard few-shot protocol (Vinyals et al.,
 * "Matching Networks for One Shot Learning", 2016), platform-neutral so every runtime measures alike.
 */

/** A deterministic PRNG (mulberry32): same seed, same episodes, on every machine. Returns [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks `count` distinct items (partial Fisher-Yates on a copy). */
export function sample<T>(items: readonly T[], count: number, random: () => number): T[] {
  const pool = items.slice();
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j] as T, pool[i] as T];
  }
  return pool.slice(0, count);
}

export interface LabelledItem<T> {
  label: string;
  item: T;
}

export interface Episode<T> {
  support: LabelledItem<T>[];
  queries: LabelledItem<T>[];
}

/** `ways` classes, `shots` support and `queries` query items per class, disjoint. */
export function sampleEpisode<T>(
  classes: readonly { name: string; items: readonly T[] }[],
  ways: number,
  shots: number,
  queries: number,
  random: () => number,
): Episode<T> {
  const episode: Episode<T> = { support: [], queries: [] };
  for (const cls of sample(classes, ways, random)) {
    const picked = sample(cls.items, shots + queries, random);
    picked.forEach((item, i) => (i < shots ? episode.support : episode.queries).push({ label: cls.name, item }));
  }
  return episode;
}

/** Mean and the half-width of its 95% confidence interval (normal approximation, 1.96 standard errors). */
export function meanCi95(values: readonly number[]): { mean: number; ci95: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, ci95: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, ci95: 0 };
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, ci95: (1.96 * Math.sqrt(variance)) / Math.sqrt(n) };
}
