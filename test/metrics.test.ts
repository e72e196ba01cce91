import { describe, expect, it } from 'vitest';
import { auroc, expectedCalibrationError, reliabilityBins } from '../src/metrics.js';

describe('calibration and open-set metrics', () => {
  it('ECE is the count-weighted gap between confidence and accuracy per bin', () => {
    // Bin (0.8, 0.9]: confidences 0.85, 0.85, accuracy 1/2 -> gap 0.35 for 2 of 4.
    // Bin (0.5, 0.6]: confidences 0.55, 0.55, accuracy 1/2 -> gap 0.05 for 2 of 4.
    const predictions = [
      { confidence: 0.85, correct: true },
      { confidence: 0.85, correct: false },
      { confidence: 0.55, correct: true },
      { confidence: 0.55, correct: false },
    ];
    expect(expectedCalibrationError(predictions, 10)).toBeCloseTo(0.5 * 0.35 + 0.5 * 0.05, 12);
    const bins = reliabilityBins(predictions, 10);
    expect(bins).toHaveLength(10);
    expect(bins[8]).toEqual({ confidence: 0.85, accuracy: 0.5, count: 2 });
    expect(bins[5]).toEqual({ confidence: 0.55, accuracy: 0.5, count: 2 });
    expect(bins.reduce((a, b) => a + b.count, 0)).toBe(4);
    // A confidence of exactly 1 lands in the last bin, 0 in the first.
    expect(reliabilityBins([{ confidence: 1, correct: true }, { confidence: 0, correct: false }], 10).map((b) => b.count)).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('perfectly calibrated predictions have zero ECE', () => {
    const predictions = Array.from({ length: 10 }, (_, i) => ({ confidence: 0.7, correct: i < 7 }));
    expect(expectedCalibrationError(predictions)).toBeCloseTo(0, 12);
  });

  it('AUROC counts pairs where a known query scores above an unknown one, ties half', () => {
    expect(auroc([0.9, 0.8], [0.1, 0.2])).toBe(1);
    expect(auroc([0.1, 0.2], [0.9, 0.8])).toBe(0);
    // Pairs: (0.5 vs 0.4) win, (0.5 vs 0.5) tie, (0.3 vs 0.4) loss, (0.3 vs 0.5) loss -> 1.5 / 4.
    expect(auroc([0.5, 0.3], [0.4, 0.5])).toBe(0.375);
    expect(auroc([], [0.1])).toBeNaN();
  });
});
