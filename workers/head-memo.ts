import type { Calibration } from '../src/calibration.js';
import type { HeadMemo } from '../src/head.js';
import { IsolateCache } from './isolate-cache.js';

/**
 * What the isolate's requests share: every request opens a classifier from KV, and without this each would
 * transform every stored vector and refit the leave-one-out calibration again (milliseconds of CPU from a few
 * dozen examples). Calibrations are keyed by the stored vectors themselves, so a change made anywhere is a new
 * key, never a stale answer; transformed vectors are keyed by the raw arrays of the decoded snapshots
 * (kv-store.ts), which nothing changes, and go with them. A calibration is a few dozen bytes: 2,000 are nothing.
 */
export const isolateMemo: HeadMemo = {
  calibrations: new IsolateCache<Calibration>(2000),
  prepared: new WeakMap(),
};
