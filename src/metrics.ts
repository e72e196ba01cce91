/**
 * Quality metrics for few-shot heads, platform-neutral so every runtime measures alike: calibration
 * (Guo et al., "On Calibration of Modern Neural Networks", 2017) and open-set separation.
 */

/** A prediction's confidence and whether it was right. */
export interface ScoredPrediction {
  confidence: number;
  correct: boolean;
}

/** One bin of a reliability diagram: mean confidence and accuracy of the predictions in it. */
export interface ReliabilityBin {
  confidence: number;
  accuracy: number;
  count: number;
}

/** Predictions grouped into `bins` equal-width confidence bins, (lo, hi]; empty bins have count 0. */
export function reliabilityBins(predictions: readonly ScoredPrediction[], bins = 15): ReliabilityBin[] {
  const sums = Array.from({ length: bins }, () => ({ confidence: 0, correct: 0, count: 0 }));
  for (const p of predictions) {
    const bin = sums[Math.min(bins - 1, Math.max(0, Math.ceil(p.confidence * bins) - 1))] as (typeof sums)[number];
    bin.confidence += p.confidence;
    bin.correct += Number(p.correct);
    bin.count++;
  }
  return sums.map((b) => ({ confidence: b.count ? b.confidence / b.count : 0, accuracy: b.count ? b.correct / b.count : 0, count: b.count }));
}

/** Expected calibration error: the count-weighted mean gap between confidence and accuracy over bins. */
export function expectedCalibrationError(predictions: readonly ScoredPrediction[], bins = 15): number {
  if (predictions.length === 0) return NaN;
  return reliabilityBins(predictions, bins).reduce((e, b) => e + (b.count / predictions.length) * Math.abs(b.accuracy - b.confidence), 0);
}

/**
 * Area under the ROC curve for telling unknown queries from known ones by a score that is lower for
 * unknowns (here: similarity to the best class). 1 is perfect, 0.5 is chance; ties count half
 * (Mann-Whitney U).
 */
export function auroc(knownScores: readonly number[], unknownScores: readonly number[]): number {
  if (knownScores.length === 0 || unknownScores.length === 0) return NaN;
  const all = [...knownScores.map((s) => ({ s, known: true })), ...unknownScores.map((s) => ({ s, known: false }))].sort((a, b) => a.s - b.s);
  // Average ranks over ties, then U of "known scores above unknown ones".
  let knownRankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && (all[j] as { s: number }).s === (all[i] as { s: number }).s) j++;
    const rank = (i + 1 + j) / 2;
    for (let t = i; t < j; t++) if ((all[t] as { known: boolean }).known) knownRankSum += rank;
    i = j;
  }
  const u = knownRankSum - (knownScores.length * (knownScores.length + 1)) / 2;
  return u / (knownScores.length * unknownScores.length);
}
