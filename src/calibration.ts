/**
 * Confidence and "unknown" that adapt to the user's own classes, training-free: each stored example of a
 * class with two or more is scored against the prototypes with itself left out (a leave-one-out over the
 * stored examples), and those held-out answers, whose truth is known, set the softmax temperature and the
 * "unknown" threshold. Both are shrunk towards the model's constants (measured by leave-one-domain-out on
 * the development domains, `npm run eval:docs`) with a weight counted in held-out examples, so a handful of
 * examples cannot swing them far; with one example per class the model's constants stand alone.
 */

/** The softmax temperature and "unknown" threshold a head uses. */
export interface Calibration {
  temperature: number;
  unknownThreshold: number | null;
  /**
   * How many held-out answers (stored examples scored with themselves left out) the two were fitted on.
   * 0: the model's constants (one example per class, calibration off or set by hand), where `confidence` is
   * only roughly calibrated (docs/ACCURACY.md); an app can ask for a second example per class.
   */
  heldOut: number;
}

/**
 * Where a head keeps the calibrations it fitted, by a key of everything the fit depends on (the stored
 * vectors, their classes and the head's constants): a host that builds a new head for every request from
 * the same examples (the edge worker) fits once instead of on every classify. A `Map` will do; the worker
 * bounds it.
 */
export interface CalibrationMemo {
  get(key: string): Calibration | undefined;
  set(key: string, calibration: Calibration): void;
}

/** A stored example scored against every class prototype, its own class recomputed without it. */
export interface HeldOutScore {
  /** Similarity to each class, in the head's class order. */
  sims: Float64Array;
  /** Index of the example's own class. */
  truth: number;
}

/** Log-spaced candidate temperatures around the prior: from a tenth of it to ten times it. */
const STEPS = 48;

/**
 * The temperature that best explains the held-out answers: it minimises their negative log-likelihood
 * under the softmax plus `weight * (ln T - ln prior)^2`, the cost of moving away from the prior (a
 * log-normal prior on T; temperature scaling, Guo et al. 2017, fitted on the user's own examples).
 */
export function fitTemperature(heldOut: readonly HeldOutScore[], prior: number, weight: number): number {
  if (heldOut.length === 0) return prior;
  const lnPrior = Math.log(prior);
  let best = prior;
  let bestCost = Infinity;
  for (let step = 0; step <= STEPS; step++) {
    const lnT = lnPrior + Math.log(10) * ((2 * step) / STEPS - 1);
    const t = Math.exp(lnT);
    let cost = weight * (lnT - lnPrior) ** 2;
    for (const { sims, truth } of heldOut) cost += negativeLogLikelihood(sims, truth, t);
    if (cost < bestCost) [best, bestCost] = [t, cost];
  }
  return best;
}

/** How close held-out examples come to their own class: count, mean and standard deviation of those similarities. */
export interface OwnClassSimilarity {
  count: number;
  mean: number;
  sd: number;
}

export function ownClassSimilarity(heldOut: readonly HeldOutScore[]): OwnClassSimilarity {
  const count = heldOut.length;
  let sum = 0;
  let sumSq = 0;
  for (const { sims, truth } of heldOut) {
    const s = sims[truth] as number;
    sum += s;
    sumSq += s * s;
  }
  const mean = count ? sum / count : 0;
  return { count, mean, sd: count ? Math.sqrt(Math.max(0, sumSq / count - mean * mean)) : 0 };
}

/**
 * The similarity under which a query is "unknown": `spread` standard deviations under the mean similarity
 * of held-out examples to their own class (how close this user's genuine examples come), blended with the
 * model's `prior` threshold as `weight` examples.
 */
export function fitThreshold(heldOut: readonly HeldOutScore[], prior: number, weight: number, spread: number): number {
  return blendThreshold(ownClassSimilarity(heldOut), prior, weight, spread);
}

/** {@link fitThreshold} from the held-out examples' summary. */
export function blendThreshold({ count, mean, sd }: OwnClassSimilarity, prior: number, weight: number, spread: number): number {
  if (count === 0) return prior;
  return (count * (mean - spread * sd) + weight * prior) / (count + weight);
}

/** -ln p(truth) under the softmax of `sims` at `temperature`. */
export function negativeLogLikelihood(sims: Float64Array, truth: number, temperature: number): number {
  let max = -Infinity;
  for (const s of sims) max = Math.max(max, s);
  let total = 0;
  for (const s of sims) total += Math.exp((s - max) / temperature);
  return Math.log(total) - ((sims[truth] as number) - max) / temperature;
}
