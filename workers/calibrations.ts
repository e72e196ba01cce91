import type { Calibration, CalibrationMemo } from '../src/calibration.js';
import { IsolateCache } from './isolate-cache.js';

/**
 * The isolate's calibration memo: every request opens a classifier from KV, and without it each classify
 * would refit the leave-one-out calibration (milliseconds of CPU from a few dozen examples). Keys cover the
 * stored vectors themselves, so a change made anywhere is a new key, never a stale answer. A few dozen
 * bytes each: 2,000 of them are nothing.
 */
export const isolateCalibrations: CalibrationMemo = new IsolateCache<Calibration>(2000);
