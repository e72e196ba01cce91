import type { Calibration, CalibrationMemo } from '../src/calibration.js';

/** Calibrations the isolate keeps: a few dozen bytes each, so a few thousand users' worth is nothing. */
const MAX_ENTRIES = 2000;

const fitted = new Map<string, Calibration>();

/**
 * The isolate's calibration memo: every request opens a classifier from KV, and without it each classify
 * would refit the leave-one-out calibration (milliseconds of CPU from a few dozen examples). Keys cover the
 * stored vectors themselves, so a change made anywhere is a new key, never a stale answer. Oldest first out.
 */
export const isolateCalibrations: CalibrationMemo = {
  get: (key) => fitted.get(key),
  set: (key, calibration) => {
    if (fitted.size >= MAX_ENTRIES) fitted.delete(fitted.keys().next().value as string);
    fitted.set(key, calibration);
  },
};
